"""People, a tenant and an app for the browser flows; the real-Docker fixtures of the
provisioning tests for the flows that launch a sandbox."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from catalog.models import Flavor
from tenants.models import Membership
from tenants.tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.catalog.factories import CatalogItemFactory, manifest
from tests.provisioning.conftest import docker_client, published  # noqa: F401 - fixtures

__all__ = ["PASSWORD"]


@pytest.fixture
def world(transactional_db):
    """Tenant `lab` (8 CPUs, 16 GiB, 5 sandboxes) with member grace and tenant admin alan,
    and a site admin, root. Everyone's password is PASSWORD."""
    tenant = TenantFactory(
        slug="lab",
        name="Lab",
        quota_cpus=Decimal("8"),
        quota_memory_mib=16384,
        quota_storage_gib=100,
        quota_sandboxes=5,
    )
    member = UserFactory(username="grace")
    admin = UserFactory(username="alan")
    Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    root = UserFactory(username="root", is_site_admin=True)
    return SimpleNamespace(tenant=tenant, member=member, admin=admin, root=root)


@pytest.fixture
def notebook_app(transactional_db):
    """A catalog item and its flavor in the database only: for flows that never start it."""
    # Transactional tests find the seeded flavors or, after another one ran, none.
    small, _ = Flavor.objects.update_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 2048, "gpus": 0, "disk_gib": 10}
    )
    return CatalogItemFactory(
        slug="notebook",
        name="Notebook",
        default_flavor=small,
        manifest=manifest(slug="notebook", name="Notebook"),
    )
