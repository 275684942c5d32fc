"""Fixtures of the DataTap tests: the real-Docker ones of tests/provisioning, the fake-engine
ones of the provisioning unit tests, tenant and site admins, and host directories under a
prefix the site allows."""

import shutil
import tempfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from provisioning.services.datataps import hostpath_prefix_add
from provisioning.tests.conftest import (  # noqa: F401 - fixtures
    cluster_item,
    fake_host,
    member,
    small,
    tenant,
)
from tenants.models import Membership, User
from tests.provisioning.conftest import docker_client, published, team  # noqa: F401 - fixtures


@pytest.fixture
def lab_admin(team):  # noqa: F811 - the imported fixture
    lab, _member, _client = team
    admin = User.objects.create_user(username="linus", password="not-used-here")
    Membership.objects.create(user=admin, tenant=lab, role=Membership.Role.ADMIN)
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def shared_dir(transactional_db):
    """A fresh directory on the host, allowed as a prefix, as a site mounts its shared storage."""
    root = Path(tempfile.mkdtemp(prefix="portal-datataps-test-", dir="/tmp"))
    site_admin = User.objects.create_user(username="site", password="not-used-here", is_site_admin=True)
    hostpath_prefix_add(actor=site_admin, path=str(root))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def site_admin(db):
    return User.objects.create_user(username="root-admin", password="unused", is_site_admin=True)


@pytest.fixture
def tenant_admin(tenant):  # noqa: F811 - the imported fixture
    user = User.objects.create_user(username="alan", password="unused")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def shared(tmp_path, site_admin):
    hostpath_prefix_add(actor=site_admin, path=str(tmp_path))
    return tmp_path
