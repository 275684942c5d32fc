"""Fixtures of the tracking tests: two tenants with their people, and the tracking image."""

import time
from decimal import Decimal
from pathlib import Path

import docker
import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from provisioning.drivers.docker import DockerDriver
from provisioning.services.worker_locks import worker_lock
from provisioning.tests.conftest import (  # noqa: F401 - fixtures
    cluster_item,
    engine,
    fake_host,
    member,
    small,
    tenant,
)
from tenants.models import Membership, Tenant, User
from tests.provisioning.conftest import docker_client, published  # noqa: F401 - fixtures
from tracking.database import tracking_database_drop
from tracking.models import TrackingServer
from tracking.services import TRACKING_LOCK, tracking_server_purge
from tracking.states import TrackingStatus

PASSWORD = "tracking test"  # noqa: S105 - test users only


@pytest.fixture
def people(transactional_db, local_host):
    """lab: alice (tenant admin) and grace (member); other: mallory (member)."""
    lab = Tenant.objects.create(
        slug="lab", name="Lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100
    )
    other = Tenant.objects.create(slug="other", name="Other", quota_storage_gib=100)
    users = {
        name: User.objects.create_user(username=name, password=PASSWORD)
        for name in ("alice", "grace", "mallory")
    }
    Membership.objects.create(user=users["alice"], tenant=lab, role=Membership.Role.ADMIN)
    Membership.objects.create(user=users["grace"], tenant=lab)
    Membership.objects.create(user=users["mallory"], tenant=other)
    yield lab, other, users
    tracking_servers_removed()


def tracking_servers_removed() -> None:
    """Whatever a test switched on goes, with what a worker of the session (which may run
    another test's tasks meanwhile) made of it: each server is switched off, its worker's lock
    taken so that no step runs halfway through, and its data deleted."""
    Tenant.objects.update(tracking=False)
    TrackingServer.objects.update(status=TrackingStatus.DISABLED)
    for server in TrackingServer.objects.select_related("tenant"):
        for _ in range(1200):
            with worker_lock(TRACKING_LOCK, server.pk) as acquired:
                if acquired:
                    tracking_server_purge(actor=None, tenant=server.tenant)
                    break
            time.sleep(0.5)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(scope="session")
def tracking_image_built(django_db_blocker):
    """The tracking servers' image, built and pushed by the portal's command (cached)."""
    with django_db_blocker.unblock():
        call_command("tracking_image_build", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def tracking_leftovers_removed(django_db_setup, django_db_blocker):
    """What an interrupted run of this site left: its tracking servers' containers, networks,
    sized volumes (with their file systems) and PostgreSQL databases and roles. The test
    database is new, so none of them can belong to it."""
    prefix = f"{settings.SITE}-trk"
    driver = DockerDriver(
        docker.from_env(version="1.41"),
        name="local",
        site=settings.SITE,
        workspace_dir=settings.WORKSPACE_DIR,
        local=True,
    )
    for state in driver.list_managed():
        if state.name.startswith(prefix):
            driver.remove(name=state.name)
    for network in driver.list_managed_networks():
        if network.startswith(prefix):
            driver.remove_network(name=network)
    # Also the file systems of volumes whose Docker side another fixture (docker_client) removed.
    images = {path.stem for path in (Path(settings.WORKSPACE_DIR) / "local").glob(f"{prefix}*.ext4")}
    for volume in {*driver.list_managed_volumes(), *images}:
        if volume.startswith(prefix):
            driver.remove_volume(name=volume)
    with django_db_blocker.unblock():
        options = connections["default"].settings_dict
        with (
            psycopg2.connect(
                dbname=options["NAME"],
                user=options["USER"],
                password=options["PASSWORD"],
                host=options["HOST"],
                port=options["PORT"],
            ) as connection,
            connection.cursor() as cursor,
        ):
            pattern = f"trk\\_{settings.SITE}\\_%"
            cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [pattern])
            names = [row[0] for row in cursor.fetchall()]
        connection.close()
        for name in names:
            tracking_database_drop(name=name)
