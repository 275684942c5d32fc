"""The one tenant-scoping mechanism: every UI and API query of tenant-owned data starts from
`Model.objects.visible_to(user)`."""

from django.db import models


class TenantScopedQuerySet(models.QuerySet):
    #: Path from the model to its tenant's primary key: "tenant" for tenant-owned rows,
    #: "sandbox__tenant" for rows owned through a sandbox, "pk" for Tenant itself.
    tenant_path = "tenant"

    def visible_to(self, user) -> "TenantScopedQuerySet":
        """Rows of the tenants `user` belongs to (all rows, for a site admin)."""
        return self._scoped(user, roles=None)

    def administered_by(self, user) -> "TenantScopedQuerySet":
        """Rows of the tenants where `user` is a tenant admin (all rows, for a site admin)."""
        return self._scoped(user, roles=["admin"])

    def _scoped(self, user, *, roles):
        from tenants.models import Membership

        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_site_admin:
            return self
        memberships = Membership.objects.filter(user=user)
        if roles is not None:
            memberships = memberships.filter(role__in=roles)
        return self.filter(**{f"{self.tenant_path}__in": memberships.values("tenant")})
