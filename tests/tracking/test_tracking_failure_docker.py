"""A start that fails midway leaves nothing running: no container, no network; the database and
volume it made stay with the server (its data, as when switched off), and deleting the data
removes them and frees the storage. The worker's step is called here directly, on the real
engine and the real PostgreSQL."""

import time

import docker.errors
import pytest

from tenants.selectors.usage import tenant_usage
from tests.tracking.conftest import api
from tracking import naming
from tracking.database import tracking_database_exists
from tracking.models import TrackingServer
from tracking.services import tracking_converge
from tracking.states import TRACKING_IN_FLIGHT, TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def settle(server: TrackingServer) -> TrackingServer:
    """Run the worker's step until the server leaves starting/stopping (a test worker of the
    same session may take some of the steps: they are idempotent and take turns)."""
    for _ in range(600):
        tracking_converge(server_id=server.pk)
        server.refresh_from_db()
        if server.status not in TRACKING_IN_FLIGHT:
            return server
        time.sleep(0.5)
    raise AssertionError(f"the tracking server stayed {server.status}")


def test_a_start_whose_image_is_missing_fails_and_leaves_nothing_running(people, docker_client, settings):
    lab, _other, users = people
    settings.TRACKING_IMAGE_VERSION = "no-such-version"
    admin = api(users["alice"])
    assert admin.patch("/api/v1/tenants/lab/", {"tracking": True}, format="json").status_code == 200
    server = TrackingServer.objects.get(tenant=lab)
    try:
        assert settle(server).status == TrackingStatus.ERROR
        assert "could not" in server.explanation and "no-such-version" in server.explanation
        with pytest.raises(docker.errors.NotFound):
            docker_client.api.inspect_container(naming.container_name(lab.pk))
        assert not docker_client.api.networks(names=[naming.network_name(lab.pk)])

        # From error, off is immediate for the worker: nothing runs that it would have to stop.
        assert admin.patch("/api/v1/tenants/lab/", {"tracking": False}, format="json").status_code == 200
        assert settle(server).status == TrackingStatus.DISABLED
    finally:
        TrackingServer.objects.filter(pk=server.pk).update(status=TrackingStatus.DISABLED)
        lab.refresh_from_db()
        lab.tracking = False
        lab.save(update_fields=["tracking"])
        assert admin.delete("/api/v1/tenants/lab/tracking/").status_code == 204
    assert not tracking_database_exists(name=naming.database_name(lab.pk))
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_volume(naming.volume_name(lab.pk))
    assert tenant_usage(tenant=lab).storage_gib == 0
