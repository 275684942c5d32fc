"""A Celery worker SIGKILLed in the middle of a delete (the create case is
tests/provisioning/test_worker_killed.py): the next worker finishes the delete, and nothing of
the sandbox is left on the engine or in the quota ledger."""

import time

import pytest

from conftest import Worker
from provisioning.models import Operation, OperationStatus, SandboxStatus
from provisioning.services.reconciler import operations_resume_stale
from tests.provisioning.conftest import leftovers, wait_for_status
from tests.resilience.conftest import NOTHING, assert_recovered, settle

pytestmark = pytest.mark.django_db(transaction=True)


def test_killed_worker_mid_delete_is_finished_by_the_next(
    team, published, celery_worker_process, docker_client, settings
):
    tenant, _user, client = team
    published("pytorch-ddp")
    sandbox_id = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "doomed",
            "catalog_item": "pytorch-ddp",
            "flavor": "small",
            "nodes": {"worker": 2},
        },
        format="json",
    ).json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    assert len(leftovers(docker_client, sandbox_id)["containers"]) == 3

    # The shared worker stops taking tasks, so that the one we kill is the one doing the delete.
    celery_worker_process.consume(False)
    doomed = Worker("doomed-delete").wait_ready()
    successor = None
    try:
        assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
        deadline = time.monotonic() + 60
        while len(leftovers(docker_client, sandbox_id)["containers"]) == 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        doomed.kill()
        half_done = leftovers(docker_client, sandbox_id)
        assert half_done != NOTHING, "the worker finished the delete before it was killed"
        operation = Operation.objects.get(sandbox_id=sandbox_id, kind="delete")
        assert operation.status == OperationStatus.RUNNING
        assert Operation.objects.get(pk=operation.pk).sandbox.status == SandboxStatus.DELETING

        successor = Worker("successor-delete").wait_ready()
        settings.OPERATION_STALE_S = 1
        time.sleep(1.5)  # let the operation go stale
        assert operations_resume_stale() == 1  # what the reconciler does on its next beat
        sandbox = settle([sandbox_id])[sandbox_id]
        assert sandbox.status == SandboxStatus.DELETED, sandbox.explanation
        operation.refresh_from_db()
        assert operation.status == OperationStatus.SUCCEEDED and operation.attempts > 1
        assert leftovers(docker_client, sandbox_id) == NOTHING
        assert_recovered([sandbox_id], [docker_client], tenant)
    finally:
        doomed.kill()
        if successor:
            successor.stop()
        celery_worker_process.consume(True)
