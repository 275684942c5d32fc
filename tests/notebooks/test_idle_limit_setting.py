"""Setting a tenant's notebook idle limit: audited, validated, off by default."""

import pytest

from common.errors import Invalid
from tenants.models import AuditEvent, Tenant, User
from tenants.services.notebook_limits import tenant_set_notebook_idle_limit

pytestmark = pytest.mark.django_db


def test_the_limit_is_off_by_default_and_set_with_an_audit_event():
    tenant = Tenant.objects.create(slug="lab", name="Lab")
    admin = User.objects.create_user(username="ada", password="unused")
    assert tenant.notebook_idle_minutes is None

    tenant = tenant_set_notebook_idle_limit(actor=admin, tenant=tenant, minutes=45, ip="192.0.2.9")
    tenant_set_notebook_idle_limit(actor=admin, tenant=tenant, minutes=45)  # unchanged: no event

    assert Tenant.objects.get(pk=tenant.pk).notebook_idle_minutes == 45
    event = AuditEvent.objects.get(action="tenant.notebook_idle_limit")
    assert (event.actor, event.detail, event.ip) == (admin, {"before": None, "after": 45}, "192.0.2.9")

    tenant_set_notebook_idle_limit(actor=admin, tenant=tenant, minutes=None)
    assert Tenant.objects.get(pk=tenant.pk).notebook_idle_minutes is None


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True])
def test_a_bad_limit_changes_nothing(bad):
    tenant = Tenant.objects.create(slug="lab", name="Lab", notebook_idle_minutes=30)
    admin = User.objects.create_user(username="ada", password="unused")
    with pytest.raises(Invalid):
        tenant_set_notebook_idle_limit(actor=admin, tenant=tenant, minutes=bad)
    assert Tenant.objects.get(pk=tenant.pk).notebook_idle_minutes == 30
    assert not AuditEvent.objects.filter(action="tenant.notebook_idle_limit").exists()
