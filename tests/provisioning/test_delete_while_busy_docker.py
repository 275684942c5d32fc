"""Issue 21, item 11 on the real Docker engine: a script that deletes right after it creates gets
its delete accepted, whatever the create has reached, and nothing of the sandbox is left."""

import pytest

from tenants.selectors.usage import tenant_usage
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}
NO_USAGE = {"cpus": 0, "memory_mib": 0, "gpus": 0, "storage_gib": 0, "sandboxes": 0}


def test_issue21_item11_create_then_delete_at_once_ten_times_leaves_no_orphans(
    team, published, celery_worker_process, docker_client
):
    tenant, _user, client = team
    published("python-minimal")
    sandbox_ids, create_outcomes = [], set()
    for attempt in range(10):
        created = client.post(
            "/api/v1/sandboxes/",
            {
                "tenant": "lab",
                "name": f"hasty-{attempt}",
                "catalog_item": "python-minimal",
                "flavor": "small",
            },
            format="json",
        )
        assert created.status_code == 202, created.json()
        sandbox_id = created.json()["id"]
        deleted = client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
        assert deleted.status_code == 202, deleted.json()
        wait_for_status(client, sandbox_id, {"deleted"})
        operations = {
            op["kind"]: op["status"]
            for op in client.get(f"/api/v1/sandboxes/{sandbox_id}/operations/").json()["results"]
        }
        assert operations["delete"] == "succeeded"
        create_outcomes.add(operations["create"])
        sandbox_ids.append(sandbox_id)

    assert create_outcomes <= {"cancelled", "succeeded"}
    left = {sandbox_id: leftovers(docker_client, sandbox_id) for sandbox_id in sandbox_ids}
    assert left == dict.fromkeys(sandbox_ids, NOTHING)
    assert tenant_usage(tenant=tenant).as_dict() == NO_USAGE
