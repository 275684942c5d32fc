"""The launch queue on the real Docker engine, through the API, with a real Celery worker: a
burst larger than the host's room is all accepted; what fits runs, the rest waits; deleting
running sandboxes lets the queued ones start by themselves in fair-share order; nothing is left
behind."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Flavor
from provisioning.models import Host
from tenants.models import Allocation, Membership, Tenant
from tenants.selectors.usage import tenant_usage
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}
ROOM = 3


def test_a_burst_queues_and_drains_in_fair_share_order(team, published, celery_worker_process, docker_client):
    lab, user, client = team
    published("python-minimal")
    # Room for three `small` sandboxes on the local engine: memory is never overcommitted.
    small = Flavor.objects.get(name="small")
    Host.objects.filter(name="local").update(memory_mib=ROOM * small.memory_mib)
    other = Tenant.objects.create(slug="lab2", name="Lab 2", quota_sandboxes=5)
    Membership.objects.create(user=user, tenant=other)
    # lab used the site for a day until an hour ago; lab2 never did.
    Allocation.objects.create(
        tenant=lab,
        subject="history",
        group="history",
        cpus=Decimal(8),
        started=timezone.now() - timedelta(days=1),
        ended=timezone.now() - timedelta(hours=1),
    )

    def launch(tenant, name):
        response = client.post(
            "/api/v1/sandboxes/",
            {"tenant": tenant, "name": name, "catalog_item": "python-minimal", "flavor": "small"},
            format="json",
        )
        assert response.status_code == 202, response.json()
        return response.json()

    burst = [launch("lab", "a1"), launch("lab", "a2"), launch("lab", "a3")]
    burst += [launch("lab", "a4"), launch("lab2", "b1"), launch("lab", "a5"), launch("lab2", "b2")]
    ids = {body["name"]: body["id"] for body in burst}

    # Every launch is accepted; the worker may already be on the first ones when they answer.
    assert all(body["status"] in {"pending", "provisioning"} for body in burst[:ROOM])
    assert [body["status"] for body in burst[ROOM:]] == ["queued"] * 4
    for name in ("a1", "a2", "a3"):
        wait_for_status(client, ids[name], {"running"})
    queued = {name: client.get(f"/api/v1/sandboxes/{ids[name]}/").json() for name in ("a4", "b1", "a5", "b2")}
    assert {name: body["queue"]["position"] for name, body in queued.items()} == {
        "b1": 1,
        "b2": 2,
        "a4": 3,
        "a5": 4,
    }
    assert queued["a4"]["queue"]["factor"] < queued["b1"]["queue"]["factor"] == 1.0

    # Each delete frees one place; the next launch in fair-share order takes it by itself.
    for gone, starts in (("a1", "b1"), ("a2", "b2"), ("a3", "a4"), ("b1", "a5")):
        assert client.delete(f"/api/v1/sandboxes/{ids[gone]}/").status_code == 202
        wait_for_status(client, ids[gone], {"deleted"})
        wait_for_status(client, ids[starts], {"running"})
        still_queued = [
            n for n in ids if client.get(f"/api/v1/sandboxes/{ids[n]}/").json()["status"] == "queued"
        ]
        assert starts not in still_queued

    for name in ("b2", "a4", "a5"):
        assert client.delete(f"/api/v1/sandboxes/{ids[name]}/").status_code == 202
    for name in ("b2", "a4", "a5"):
        wait_for_status(client, ids[name], {"deleted"})
    for sandbox_id in ids.values():
        assert leftovers(docker_client, sandbox_id) == NOTHING
    for tenant in (lab, other):
        assert tenant_usage(tenant=tenant).as_dict() == {
            "cpus": 0,
            "memory_mib": 0,
            "gpus": 0,
            "storage_gib": 0,
            "sandboxes": 0,
        }
