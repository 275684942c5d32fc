from tenants.models import Membership, Tenant


def membership_list(*, tenant: Tenant):
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")


def membership_role(*, user, tenant: Tenant) -> str | None:
    """The user's role in the tenant ("admin", "member"), or None when not a member."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, tenant=tenant).values_list("role", flat=True).first()


def user_can_use_tenant(*, user, tenant: Tenant) -> bool:
    """Members, tenant admins and site admins work inside a tenant."""
    return user.is_authenticated and (
        user.is_site_admin or membership_role(user=user, tenant=tenant) is not None
    )


def user_can_admin_tenant(*, user, tenant: Tenant) -> bool:
    """Tenant admins of this tenant and site admins manage it (members, DataTaps, ...)."""
    return user.is_authenticated and (
        user.is_site_admin or membership_role(user=user, tenant=tenant) == Membership.Role.ADMIN
    )
