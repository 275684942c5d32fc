"""A Celery worker SIGKILLed in the middle of a create: the next worker adopts the half-made
sandbox and finishes it, with no duplicate or orphaned container, network or reservation."""

import time

import pytest

from conftest import Worker
from provisioning.models import Operation, OperationStatus
from provisioning.naming import sandbox_prefix
from provisioning.tasks import reconcile
from tenants.models import Allocation
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_killed_worker_mid_create_is_adopted(team, published, celery_worker_process, docker_client):
    _tenant, _user, client = team
    published("pytorch-ddp")
    # The shared worker stops taking tasks, so that the one we kill is the one doing the create.
    celery_worker_process.consume(False)
    doomed = Worker("doomed").wait_ready()
    successor = None
    try:
        sandbox_id = client.post(
            "/api/v1/sandboxes/",
            {
                "tenant": "lab",
                "name": "crash",
                "catalog_item": "pytorch-ddp",
                "flavor": "small",
                "nodes": {"worker": 2},
            },
            format="json",
        ).json()["id"]
        deadline = time.monotonic() + 60
        while not leftovers(docker_client, sandbox_id)["containers"] and time.monotonic() < deadline:
            time.sleep(0.05)
        doomed.kill()
        half_made = leftovers(docker_client, sandbox_id)
        assert half_made["containers"], "the worker was killed before it made anything"
        assert Operation.objects.get(sandbox_id=sandbox_id).status == OperationStatus.RUNNING

        successor = Worker("successor", PORTAL_OPERATION_STALE_S="1").wait_ready()
        time.sleep(1.5)  # let the operation go stale
        reconcile.apply_async(queue="celery").forget()
        wait_for_status(client, sandbox_id, {"running"})

        after = leftovers(docker_client, sandbox_id)
        assert sorted(after["containers"]) == [
            f"{sandbox_prefix(sandbox_id)}-{n}" for n in ("head-0", "worker-0", "worker-1")
        ]
        assert after["networks"] == [f"{sandbox_prefix(sandbox_id)}-net"]
        assert after["volumes"] == [f"{sandbox_prefix(sandbox_id)}-workspace"]
        live = Allocation.objects.filter(group=f"sandbox/{sandbox_id}", ended__isnull=True)
        assert live.count() == 4  # the sandbox slot and three nodes, each once
        operation = Operation.objects.get(sandbox_id=sandbox_id)
        assert operation.status == OperationStatus.SUCCEEDED and operation.attempts > 1
    finally:
        doomed.kill()
        if successor:
            successor.stop()
        celery_worker_process.consume(True)
    client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == {"containers": [], "networks": [], "volumes": []}
