"""Refused writes by signed-in users land in the audit log as `denied`."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Membership
from tenants.tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _denied():
    return list(AuditEvent.objects.filter(result=AuditEvent.Result.DENIED).values("action", "detail"))


def test_a_write_to_another_tenant_is_recorded_as_denied():
    mine, theirs = TenantFactory(), TenantFactory()
    member = MembershipFactory(tenant=mine, role=Membership.Role.ADMIN).user
    client = APIClient()
    client.force_authenticate(member)

    assert client.patch(f"/api/v1/tenants/{theirs.slug}/", {"name": "x"}, format="json").status_code == 404
    assert client.get(f"/api/v1/tenants/{theirs.slug}/").status_code == 404  # a read: not recorded

    assert _denied() == [
        {
            "action": "request.denied",
            "detail": {"method": "PATCH", "path": f"/api/v1/tenants/{theirs.slug}/", "status": 404},
        }
    ]


def test_a_member_s_admin_action_on_a_page_is_recorded_and_anonymous_ones_are_not():
    tenant = TenantFactory()
    member = MembershipFactory(tenant=tenant, role=Membership.Role.MEMBER).user
    browser = Client()
    browser.force_login(member)
    response = browser.post(f"/tenants/{tenant.slug}/members/add/", {"username": "x", "role": "member"})
    assert response.status_code in (403, 404)
    assert [d["detail"]["method"] for d in _denied()] == ["POST"]

    Client().post(f"/tenants/{tenant.slug}/members/add/", {"username": "x", "role": "member"})
    assert len(_denied()) == 1
