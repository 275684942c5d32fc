"""What a login through the directory or the OpenID provider changes in the portal."""

import logging

from django.db import transaction
from django.utils import timezone

from identity.models import Account, ExternalIdentity, GroupMapping, MappedMembership
from identity.selectors.mappings import grants_for_groups
from tenants.models import AuditEvent, Membership, Tenant, User
from tenants.services.audit import audit_record
from tenants.services.memberships import membership_add, membership_change_role, membership_remove

logger = logging.getLogger(__name__)

_RANK = {Membership.Role.MEMBER: 0, Membership.Role.ADMIN: 1}


def external_identity_bind(*, user: User, provider: str, issuer: str, subject: str) -> ExternalIdentity:
    """Record that `user` signed in as `subject` of `provider` (binding them on the first login)."""
    binding, _ = ExternalIdentity.objects.get_or_create(
        provider=provider, issuer=issuer, subject=subject, defaults={"user": user}
    )
    binding.last_login = timezone.now()
    binding.save(update_fields=["last_login"])
    return binding


@transaction.atomic
def external_login(
    *, user: User, provider: str, issuer: str, subject: str, groups: set[str], ip: str | None = None
) -> None:
    """A login through `provider`: bind the account and apply the group mappings."""
    external_identity_bind(user=user, provider=provider, issuer=issuer, subject=subject)
    memberships_sync(user=user, groups=groups, ip=ip)


def _wanted_roles(*, user: User, groups: set[str], ip: str | None) -> tuple[dict, bool]:
    """The role each mapped tenant should give the user (the highest that any group grants), the
    groups behind it, and whether a group makes the user a site admin."""
    wanted: dict[int, tuple[Tenant, str, list[str]]] = {}
    site_admin = False
    for grant in grants_for_groups(groups=groups):
        if grant.grant == GroupMapping.Grant.SITE_ADMIN:
            site_admin = True
            continue
        if grant.tenant is None:
            logger.warning(
                "Group mapping %s → %s ignored at the login of %s: the tenant no longer exists",
                grant.group,
                grant.tenant_slug,
                user.username,
            )
            audit_record(
                actor=user,
                action="group_mapping.ignored",
                result=AuditEvent.Result.FAILURE,
                object_type="identity.groupmapping",
                object_id=str(grant.mapping_id or ""),
                object_repr=f"{grant.group} → {grant.tenant_slug}",
                ip=ip,
                detail={"group": grant.group, "tenant": grant.tenant_slug, "reason": "tenant deleted"},
            )
            continue
        tenant, role, granted_by = wanted.get(grant.tenant.pk, (grant.tenant, grant.grant, []))
        if _RANK[grant.grant] > _RANK[role]:
            role = grant.grant
        wanted[grant.tenant.pk] = (tenant, role, [*granted_by, grant.group])
    return wanted, site_admin


@transaction.atomic
def memberships_sync(*, user: User, groups: set[str], ip: str | None = None) -> None:
    """Bring the user's mapped memberships and site admin flag in line with the groups the
    provider says the user is in. Memberships added by hand are left as they are."""
    wanted, site_admin = _wanted_roles(user=user, groups=groups, ip=ip)
    existing = {
        membership.tenant_id: membership
        for membership in Membership.objects.select_related("tenant", "user", "mapped").filter(user=user)
    }
    for tenant_id, (tenant, role, granted_by) in wanted.items():
        membership = existing.get(tenant_id)
        if membership is None:
            membership = membership_add(actor=None, tenant=tenant, username=user.username, role=role, ip=ip)
            MappedMembership.objects.create(membership=membership, groups=granted_by)
        elif hasattr(membership, "mapped"):
            membership_change_role(actor=None, membership=membership, role=role, ip=ip)
            membership.mapped.groups = granted_by
            membership.mapped.save(update_fields=["groups"])
    for tenant_id, membership in existing.items():
        if tenant_id not in wanted and hasattr(membership, "mapped"):
            membership_remove(actor=None, membership=membership, ip=ip)
    _site_admin_sync(user=user, site_admin=site_admin, ip=ip)


def _site_admin_sync(*, user: User, site_admin: bool, ip: str | None) -> None:
    account, _ = Account.objects.get_or_create(user=user)
    if site_admin and not user.is_site_admin:
        user.is_site_admin = True
        account.site_admin_from_groups = True
        action = "user.site_admin_grant"
    elif not site_admin and account.site_admin_from_groups:
        user.is_site_admin = False
        account.site_admin_from_groups = False
        action = "user.site_admin_revoke"
    else:
        return
    user.save(update_fields=["is_site_admin"])
    account.save(update_fields=["site_admin_from_groups"])
    audit_record(actor=user, action=action, target=user, ip=ip, detail={"via": "group mapping"})


def openid_login_refused(*, reason: str, ip: str | None = None) -> None:
    """Audit an OpenID callback that signed nobody in (wrong state, replayed code, the user
    cancelled at the provider): nothing else changes."""
    audit_record(
        actor=None,
        action="auth.login_failed",
        result=AuditEvent.Result.FAILURE,
        object_type="tenants.user",
        ip=ip,
        detail={"via": "openid", "reason": reason[:200]},
    )
