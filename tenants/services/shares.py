"""A tenant's fair share: its weight in the launch queue when the site is full. Site admins set it."""

from django.db import transaction

from common.errors import Invalid
from tenants.models import Tenant, User
from tenants.services.audit import audit_record


@transaction.atomic
def tenant_set_share(*, actor: User, tenant: Tenant, share: int, ip: str | None = None) -> Tenant:
    """Callers check that `actor` is a site admin, as for the quota."""
    if isinstance(share, bool) or not isinstance(share, int) or share < 0:
        raise Invalid(fields={"share": ["A whole number, 0 or more."]})
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = tenant.share
    if before == share:
        return tenant
    tenant.share = share
    tenant.save(update_fields=["share"])
    audit_record(
        actor=actor,
        action="tenant.share",
        tenant=tenant,
        target=tenant,
        ip=ip,
        detail={"before": before, "after": share},
    )
    return tenant
