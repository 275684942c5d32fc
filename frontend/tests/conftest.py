"""The provisioning unit-test fixtures (fake engines, tenant acme, member ada, the cluster
app) for the page tests, and a few more people."""

import pytest

from provisioning.tests.conftest import (  # noqa: F401 - fixtures
    cluster,
    cluster_item,
    engine,
    fake_host,
    member,
    small,
    tenant,
)
from tenants.models import Membership
from tenants.tests.factories import UserFactory


@pytest.fixture
def tenant_admin(tenant):  # noqa: F811 - the imported fixture
    user = UserFactory(username="alan")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root", is_site_admin=True)


@pytest.fixture
def stranger(db):
    """A member of another tenant."""
    from tenants.tests.factories import TenantFactory

    user = UserFactory(username="mallory")
    Membership.objects.create(user=user, tenant=TenantFactory(slug="globex"), role=Membership.Role.MEMBER)
    return user
