"""Real-Docker fixtures: catalog images published to the registry, a tenant and a member."""

import importlib
import time
from decimal import Decimal

import docker
import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient

from provisioning.services.specs import LABEL_PREFIX
from tenants.models import Membership, Tenant, User


@pytest.fixture
def published(transactional_db):
    """Build (cached), push and sync the named catalog images into the test database."""
    # Transactional tests empty every table, the flavors that a migration seeds included.
    importlib.import_module("catalog.migrations.0002_seed_flavors").seed(apps, None)

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


@pytest.fixture
def docker_client():
    client = docker.from_env()
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
    label = f"{LABEL_PREFIX}.sandbox={sandbox_id}"
    return {
        "containers": [c.name for c in docker_client.containers.list(all=True, filters={"label": label})],
        "networks": [n.name for n in docker_client.networks.list(filters={"label": label})],
        "volumes": [v.name for v in docker_client.volumes.list(filters={"label": label})],
    }
