from tenants.models import Tenant, TenantQuerySet

#: Where the browser session keeps the slug of its current tenant.
SESSION_KEY = "tenants.current"


def tenant_list(*, user) -> TenantQuerySet:
    """The tenants `user` may see: their own, or all of them for a site admin."""
    return Tenant.objects.visible_to(user)


def tenant_current(request) -> Tenant | None:
    """The tenant the browser session works in: the one chosen with the switcher if the user
    may still see it, else the user's first own tenant, else (site admins) the first tenant."""
    user = request.user
    visible = Tenant.objects.visible_to(user)
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        tenant = visible.filter(slug=chosen).first()
        if tenant is not None:
            return tenant
    if not user.is_authenticated:
        return None
    return visible.filter(memberships__user=user).first() or visible.first()
