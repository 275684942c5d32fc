"""A start that fails midway leaves nothing running: no container, no network; the database and
volume it made stay with the server (its data, as when switched off), and deleting the data
removes them and frees the storage. The worker's step is called here directly, on the real
engine and the real PostgreSQL."""

import time

import docker.errors
import pytest
from django.test import Client

from provisioning.models import Host
from tenants.models import Tenant
from tenants.selectors.usage import tenant_usage
from tests.catalog.conftest import another_worker_builds
from tests.tracking.conftest import api
from tracking import naming
from tracking.database import tracking_database_exists
from tracking.image_build import tracking_platform_image
from tracking.models import TrackingServer
from tracking.services import tracking_converge
from tracking.states import TRACKING_IN_FLIGHT, TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def shared_worker_aside(django_db_setup, django_db_blocker, celery_worker_process):
    """These tests change the tracking image's version in their own process and take the
    worker's steps themselves: the run's shared worker, which has the real version, steps aside
    meanwhile (a start it took would succeed where the test expects a failure), and the tasks
    the module left behind are dropped before it takes tasks again."""
    from portal.celery import app

    celery_worker_process.consume(False)
    app.control.purge()
    try:
        yield
    finally:
        app.control.purge()
        celery_worker_process.consume(True)


def settle(server: TrackingServer) -> TrackingServer:
    """Run the worker's step until the server leaves starting/stopping."""
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


def test_a_start_waits_while_its_image_is_being_built_then_fails_plainly_when_nobody_builds_it(
    people, docker_client, settings
):
    """A site's first run builds the image in the background (catalog.services.platform_images):
    a tenant admin who switches tracking on before it is done sees the start wait, saying why."""
    lab, _other, users = people
    settings.TRACKING_IMAGE_VERSION = "pytest-being-built"
    image = tracking_platform_image()
    # Switched on as the service does, without the worker's message: this test takes the steps.
    Tenant.objects.filter(pk=lab.pk).update(tracking=True)
    server = TrackingServer.objects.create(
        tenant=lab, host=Host.objects.get(name="local"), storage_gib=1, status=TrackingStatus.STARTING
    )
    with another_worker_builds(image):
        outcome = tracking_converge(server_id=server.pk)
        server.refresh_from_db()
        assert outcome.again_in is not None and server.status == TrackingStatus.STARTING
        assert server.explanation.startswith(
            f"Waiting for the MLflow tracking server's image ({image.reference})"
        )
        # Waiting is no failure: the tenant page says it in grey, not red.
        admin = Client()
        admin.force_login(users["alice"])
        page = admin.get("/tenants/lab/").content.decode()
        assert 'class="text-body-secondary small" data-testid="tracking-explanation">Waiting for' in page

    assert settle(server).status == TrackingStatus.ERROR
    assert f"({image.reference}) is not in the registry, and no build of it is running" in server.explanation
    assert "manage.py tracking_image_build" in server.explanation
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(naming.container_name(lab.pk))
    assert not docker_client.api.networks(names=[naming.network_name(lab.pk)])
