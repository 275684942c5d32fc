"""Readiness on the real local engine: the worker learns it by probing the node's services, so
the engine's own healthcheck runs calmly, and the create's phases say where its time went."""

import pytest

from catalog.models import CatalogItem
from provisioning.naming import sandbox_prefix
from provisioning.services.readiness import services_answer
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

SECOND_NS = 1_000_000_000


def test_a_notebook_is_running_when_its_service_answers(
    team, published, celery_worker_process, docker_client
):
    _tenant, _user, client = team
    published("python-minimal")

    sandbox_id = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "ready", "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    ).json()["id"]
    body = wait_for_status(client, sandbox_id, {"running"})

    container = docker_client.api.inspect_container(f"{sandbox_prefix(sandbox_id)}-head-0")
    assert container["Config"]["Healthcheck"]["Interval"] == 30 * SECOND_NS  # for the reconciler only
    services = CatalogItem.objects.get(slug="python-minimal").spec.head.services
    assert services_answer(ip=body["nodes"][0]["ip"], services=services) is True
    operation = client.get(f"/api/v1/sandboxes/{sandbox_id}/operations/").json()["results"][0]
    assert [mark["phase"] for mark in operation["phases"]] == [
        "queued",
        "placed",
        "network",
        "started",
        "ready",
    ]
    assert operation["attempts"] <= 2  # the bring-up, and at most one look the watcher asked for

    client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    wait_for_status(client, sandbox_id, {"deleted"})
