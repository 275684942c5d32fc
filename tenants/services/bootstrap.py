"""First-run objects: the first site admin and the `default` tenant."""

import secrets

from django.db import transaction

from tenants.models import Membership, Tenant, User


@transaction.atomic
def site_admin_ensure(*, username: str, email: str, password: str) -> tuple[User, str | None]:
    """Create the site admin if missing. Returns the user and the password when one was
    generated here (to be shown once), else None. An existing admin's password is untouched."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        if not user.is_site_admin:
            user.is_site_admin = True
            user.save(update_fields=["is_site_admin"])
        return user, None
    generated = None if password else secrets.token_urlsafe(12)
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password or generated,
        is_site_admin=True,
        is_staff=True,
        is_superuser=True,
    )
    return user, generated


@transaction.atomic
def default_tenant_ensure(*, admin: User) -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(
        slug="default", defaults={"name": "Default", "description": "The first tenant."}
    )
    Membership.objects.get_or_create(user=admin, tenant=tenant, defaults={"role": Membership.Role.ADMIN})
    return tenant
