"""Tenant admins set the notebook idle limit through the API; members may not."""

import pytest
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Membership
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_tenant_admin_sets_and_clears_the_idle_limit():
    tenant = TenantFactory()
    admin = MembershipFactory(tenant=tenant, role=Membership.Role.ADMIN).user
    client = _client(admin)

    response = client.patch(f"/api/v1/tenants/{tenant.slug}/", {"notebook_idle_minutes": 30}, format="json")
    assert response.status_code == 200 and response.json()["notebook_idle_minutes"] == 30
    response = client.patch(f"/api/v1/tenants/{tenant.slug}/", {"notebook_idle_minutes": None}, format="json")
    assert response.json()["notebook_idle_minutes"] is None
    assert AuditEvent.objects.filter(action="tenant.notebook_idle_limit").count() == 2


def test_bad_limits_and_members_are_refused():
    tenant = TenantFactory()
    admin = MembershipFactory(tenant=tenant, role=Membership.Role.ADMIN).user
    member = MembershipFactory(tenant=tenant, role=Membership.Role.MEMBER).user
    bad = _client(admin).patch(f"/api/v1/tenants/{tenant.slug}/", {"notebook_idle_minutes": 0}, format="json")
    assert bad.status_code == 400 and "notebook_idle_minutes" in bad.json()
    refused = _client(member).patch(
        f"/api/v1/tenants/{tenant.slug}/", {"notebook_idle_minutes": 5}, format="json"
    )
    assert refused.status_code == 403
    stranger = _client(UserFactory()).patch(
        f"/api/v1/tenants/{tenant.slug}/", {"notebook_idle_minutes": 5}, format="json"
    )
    assert stranger.status_code == 404
    tenant.refresh_from_db()
    assert tenant.notebook_idle_minutes is None
