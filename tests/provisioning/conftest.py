"""Real-Docker fixtures: catalog images published to the registry, a tenant and a member."""

import time
from decimal import Decimal

import docker
import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers.docker import SITE_LABEL
from tenants.models import Membership, Tenant, User


@pytest.fixture
def published(seeded_flavors):
    """Build (cached), push and sync the named catalog images into the test database."""

    def publish(*slugs):
        call_command("catalog_build", *slugs, verbosity=0)

    return publish


@pytest.fixture
def team(transactional_db, local_host):
    tenant = Tenant.objects.create(
        slug="lab",
        name="Lab",
        quota_cpus=Decimal("8"),
        quota_memory_mib=16384,
        quota_storage_gib=100,
        quota_sandboxes=5,
    )
    user = User.objects.create_user(username="grace", password="not-used-here")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    client = APIClient()
    client.force_authenticate(user)
    return tenant, user, client


@pytest.fixture(scope="session")
def docker_client():
    """The local engine, cleared first of what an earlier, interrupted test run left: the test
    database is new, so nothing of the test site on the engine can belong to it."""
    client = docker.from_env(version="1.41")
    site = f"{SITE_LABEL}={settings.SITE}"
    for container in client.api.containers(all=True, filters={"label": site}):
        client.api.remove_container(container["Id"], force=True)
    for network in client.api.networks(filters={"label": site}):
        client.api.remove_network(network["Id"])
    for volume in client.api.volumes(filters={"label": site}).get("Volumes") or []:
        client.api.remove_volume(volume["Name"], force=True)
    yield client
    client.close()


def wait_for_status(client, sandbox_id, wanted, *, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/sandboxes/{sandbox_id}/").json()
        if body["status"] in wanted:
            return body
        if body["status"] == "error":
            raise AssertionError(f"sandbox ended in error: {body['status_detail']}")
        time.sleep(0.5)
    raise AssertionError(f"sandbox stayed {body['status']}, wanted {wanted}")


def leftovers(docker_client, sandbox_id) -> dict:
    """Every Docker object still labelled with the sandbox."""
    # The low-level listings: they do not inspect each object, which races with removals.
    api = docker_client.api
    labels = {"label": [f"{LABEL_PREFIX}.sandbox={sandbox_id}", f"{SITE_LABEL}={settings.SITE}"]}
    return {
        "containers": sorted(c["Names"][0].lstrip("/") for c in api.containers(all=True, filters=labels)),
        "networks": sorted(n["Name"] for n in api.networks(filters=labels)),
        "volumes": sorted(v["Name"] for v in api.volumes(filters=labels).get("Volumes") or []),
    }
