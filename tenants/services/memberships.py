from django.db import transaction

from common.errors import Invalid
from tenants.models import Membership, Tenant, User
from tenants.services.audit import audit_record


def _check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise Invalid(fields={"role": [f"Choose one of: {', '.join(Membership.Role.values)}."]})


@transaction.atomic
def membership_add(
    *, actor: User, tenant: Tenant, user: User, role: str = Membership.Role.MEMBER, ip: str | None = None
) -> Membership:
    _check_role(role)
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
    *, actor: User, membership: Membership, role: str, ip: str | None = None
) -> Membership:
    _check_role(role)
    if role == membership.role:
        return membership
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
def membership_remove(*, actor: User, membership: Membership, ip: str | None = None) -> None:
    audit_record(
        actor=actor,
        action="member.remove",
        tenant=membership.tenant,
        target=membership,
        ip=ip,
        detail={"username": membership.user.username, "role": membership.role},
    )
    membership.delete()
