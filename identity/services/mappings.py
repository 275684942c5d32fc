from django.db import IntegrityError, transaction

from common.errors import Invalid
from identity.models import GroupMapping
from tenants.models import Tenant, User
from tenants.services.audit import audit_record


@transaction.atomic
def group_mapping_create(
    *, actor: User, group: str, grant: str, tenant: Tenant | None = None, ip: str | None = None
) -> GroupMapping:
    """Map `group` to a role (`member`, `admin`) in `tenant`, or to site admin (no tenant). The
    next login of each member of the group applies it."""
    group = group.strip()
    if not group:
        raise Invalid(fields={"group": ["Name the group (its name or DN)."]})
    if grant not in GroupMapping.Grant.values:
        raise Invalid(fields={"grant": [f"Choose one of: {', '.join(GroupMapping.Grant.values)}."]})
    if (grant == GroupMapping.Grant.SITE_ADMIN) != (tenant is None):
        raise Invalid(fields={"tenant": ["Site admin takes no tenant; a tenant role needs one."]})
    mapping = GroupMapping(group=group, grant=grant, tenant=tenant, tenant_slug=tenant.slug if tenant else "")
    try:
        with transaction.atomic():
            mapping.save()
    except IntegrityError as error:
        where = tenant.slug if tenant else "site admin"
        raise Invalid(fields={"group": [f"{group} is mapped for {where} already."]}) from error
    audit_record(
        actor=actor,
        action="group_mapping.create",
        tenant=tenant,
        target=mapping,
        ip=ip,
        detail={"group": group, "grant": grant, "tenant": mapping.tenant_slug},
    )
    return mapping


@transaction.atomic
def group_mapping_delete(*, actor: User, mapping: GroupMapping, ip: str | None = None) -> None:
    """Members keep what the mapping gave them until their next login."""
    audit_record(
        actor=actor,
        action="group_mapping.delete",
        tenant=mapping.tenant,
        target=mapping,
        ip=ip,
        detail={"group": mapping.group, "grant": mapping.grant, "tenant": mapping.tenant_slug},
    )
    mapping.delete()
