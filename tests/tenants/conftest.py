"""The people of the role matrix: a site admin, a tenant admin and a member of tenant `acme`,
a member of another tenant `globex`, and an anonymous client."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from tenants.models import Membership, Tenant, User
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    site_admin: User
    tenant_admin: User
    member: User
    outsider: User


@pytest.fixture
def world(db) -> World:
    acme = TenantFactory(slug="acme", quota_cpus=4, quota_sandboxes=2)
    globex = TenantFactory(slug="globex")
    tenant_admin = MembershipFactory(tenant=acme, user__username="alice", role=Membership.Role.ADMIN).user
    member = MembershipFactory(tenant=acme, user__username="bob").user
    outsider = MembershipFactory(tenant=globex, user__username="mallory").user
    return World(
        acme=acme,
        globex=globex,
        site_admin=UserFactory(username="root", is_site_admin=True),
        tenant_admin=tenant_admin,
        member=member,
        outsider=outsider,
    )


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
