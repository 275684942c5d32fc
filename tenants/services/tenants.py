from django.core.exceptions import ValidationError
from django.db import transaction

from common.errors import Invalid
from tenants.models import Tenant, User
from tenants.resources import DIMENSIONS, Resources
from tenants.selectors.tenants import SESSION_KEY
from tenants.selectors.usage import tenant_quota
from tenants.services.audit import audit_record

#: Slugs that would collide with the page URLs under /tenants/.
RESERVED_SLUGS = frozenset({"new", "switch"})


def _quota_detail(quota: Resources) -> dict:
    return {name: str(value) for name, value in quota.as_dict().items()}


def _check_dimensions(quota: dict) -> None:
    unknown = set(quota) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown quota dimensions: {sorted(unknown)}")


def _full_clean(tenant: Tenant) -> None:
    try:
        tenant.full_clean()
    except ValidationError as error:
        raise Invalid.from_validation_error(error) from error


@transaction.atomic
def tenant_create(
    *,
    actor: User,
    slug: str,
    name: str,
    description: str = "",
    quota: dict | None = None,
    share: int = 1,
    ip: str | None = None,
) -> Tenant:
    """Create a tenant; quota dimensions left out of `quota` take the defaults. `share` is its
    fair-share weight in the launch queue."""
    _check_dimensions(quota or {})
    if slug in RESERVED_SLUGS:
        raise Invalid(fields={"slug": [f"{slug!r} is reserved: the pages use it."]})
    tenant = Tenant(slug=slug, name=name, description=description, share=share)
    for dimension, value in (quota or {}).items():
        setattr(tenant, f"quota_{dimension}", value)
    _full_clean(tenant)
    tenant.save()
    audit_record(
        actor=actor,
        action="tenant.create",
        tenant=tenant,
        target=tenant,
        ip=ip,
        detail={"quota": _quota_detail(tenant_quota(tenant=tenant)), "share": tenant.share},
    )
    return tenant


@transaction.atomic
def tenant_update(
    *,
    actor: User,
    tenant: Tenant,
    name: str | None = None,
    description: str | None = None,
    ip: str | None = None,
) -> Tenant:
    """Change what a tenant is called; the quota has its own service and audit action."""
    changes = {
        field: value
        for field, value in (("name", name), ("description", description))
        if value is not None and value != getattr(tenant, field)
    }
    if not changes:
        return tenant
    before = {field: getattr(tenant, field) for field in changes}
    for field, value in changes.items():
        setattr(tenant, field, value)
    _full_clean(tenant)
    tenant.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="tenant.update",
        tenant=tenant,
        target=tenant,
        ip=ip,
        detail={"before": before, "after": changes},
    )
    return tenant


@transaction.atomic
def tenant_update_quota(*, actor: User, tenant: Tenant, quota: dict, ip: str | None = None) -> Tenant:
    """Set some or all quota dimensions ({"cpus": Decimal("4"), "gpus": 1}).

    A limit below current usage is allowed: what runs keeps running, and the ledger refuses
    new reservations until usage drops. The tenant row is locked like a reservation locks it,
    so a reservation sees either the old quota or the new one, never a mix.
    """
    _check_dimensions(quota)
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = tenant_quota(tenant=tenant)
    for dimension, value in quota.items():
        setattr(tenant, f"quota_{dimension}", value)
    _full_clean(tenant)
    tenant.save(update_fields=[f"quota_{dimension}" for dimension in quota])
    tenant.refresh_from_db()
    after = tenant_quota(tenant=tenant)
    if after != before:
        audit_record(
            actor=actor,
            action="tenant.quota_update",
            tenant=tenant,
            target=tenant,
            ip=ip,
            detail={"before": _quota_detail(before), "after": _quota_detail(after)},
        )
    return tenant


def tenant_select(*, request, tenant: Tenant) -> None:
    """Make `tenant` the browser session's current tenant. The caller checks that the user may
    see it; tenant_current checks again on every read, so a stale choice never leaks."""
    request.session[SESSION_KEY] = tenant.slug
