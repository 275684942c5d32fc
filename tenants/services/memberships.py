"""Who belongs to a tenant, and as what. Adding someone answers the same for a name that does
not exist and for one that may not join, so the form cannot be used to list accounts; and a
tenant admin cannot leave the tenant without an admin by demoting or removing themselves."""

from django.db import transaction

from common.errors import Conflict, Invalid
from tenants.models import Membership, Tenant, User
from tenants.selectors.memberships import user_joinable
from tenants.services.audit import audit_record

#: One answer for unknown, inactive and refused names alike.
NOT_JOINABLE = "There is no active user with that name who can join this tenant."


class LastTenantAdmin(Conflict):
    """The caller is the tenant's only admin and would stop being one (409)."""

    code = "last_tenant_admin"


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise Invalid(fields={"role": [f"Choose one of: {', '.join(Membership.Role.values)}."]})


def _keep_an_admin(*, actor: User | None, membership: Membership) -> None:
    """Refuse when `actor` would demote or remove themselves as the tenant's last admin. The
    tenant row is locked so that two admins stepping down at once cannot both pass. The site's
    group mappings (no actor) follow the directory, which decides who admins a tenant."""
    if actor is None or membership.user_id != actor.pk or membership.role != Membership.Role.ADMIN:
        return
    Tenant.objects.select_for_update().get(pk=membership.tenant_id)
    others = Membership.objects.filter(tenant_id=membership.tenant_id, role=Membership.Role.ADMIN).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise LastTenantAdmin(
            f"You are the only admin of {membership.tenant.slug}: make another member an admin first."
        )


@transaction.atomic
def membership_add(
    *,
    actor: User | None,
    tenant: Tenant,
    username: str,
    role: str = Membership.Role.MEMBER,
    ip: str | None = None,
) -> Membership:
    _check_role(role)
    user = user_joinable(actor=actor, username=username)
    if user is None:
        raise Invalid(fields={"username": [NOT_JOINABLE]})
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise Invalid(fields={"username": [f"{user.username} is already a member of {tenant.slug}."]})
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    audit_record(
        actor=actor,
        action="member.add",
        tenant=tenant,
        target=membership,
        ip=ip,
        detail={"username": user.username, "role": role},
    )
    return membership


@transaction.atomic
def membership_change_role(
    *, actor: User | None, membership: Membership, role: str, ip: str | None = None
) -> Membership:
    _check_role(role)
    if role == membership.role:
        return membership
    _keep_an_admin(actor=actor, membership=membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="member.change_role",
        tenant=membership.tenant,
        target=membership,
        ip=ip,
        detail={"username": membership.user.username, "before": before, "after": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: User | None, membership: Membership, ip: str | None = None) -> None:
    _keep_an_admin(actor=actor, membership=membership)
    audit_record(
        actor=actor,
        action="member.remove",
        tenant=membership.tenant,
        target=membership,
        ip=ip,
        detail={"username": membership.user.username, "role": membership.role},
    )
    membership.delete()
