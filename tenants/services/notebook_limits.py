"""The tenant's notebook idle limit: how long a sandbox's notebook may sit unused before the
portal stops the sandbox (provisioning's notebooks_idle_stop). Tenant admins set it."""

from django.db import transaction

from common.errors import Invalid
from tenants.models import Tenant, User
from tenants.services.audit import audit_record


@transaction.atomic
def tenant_set_notebook_idle_limit(
    *, actor: User, tenant: Tenant, minutes: int | None, ip: str | None = None
) -> Tenant:
    """Set the limit in minutes; None turns it off. Callers check that `actor` administers the
    tenant (user_can_admin_tenant), as for the tenant's name."""
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1):
        raise Invalid(fields={"notebook_idle_minutes": ["A whole number of minutes, 1 or more, or empty."]})
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = tenant.notebook_idle_minutes
    if before == minutes:
        return tenant
    tenant.notebook_idle_minutes = minutes
    tenant.save(update_fields=["notebook_idle_minutes"])
    audit_record(
        actor=actor,
        action="tenant.notebook_idle_limit",
        tenant=tenant,
        target=tenant,
        ip=ip,
        detail={"before": before, "after": minutes},
    )
    return tenant
