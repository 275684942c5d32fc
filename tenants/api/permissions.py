"""DRF permissions shared by every app's API. Tenant-owned objects are found through
`.visible_to(user)` first (so a foreign one is a 404); these decide what a visible one allows."""

from rest_framework.permissions import BasePermission

from tenants.models import Tenant
from tenants.selectors.memberships import user_can_admin_tenant, user_can_use_tenant


def tenant_of(obj) -> Tenant:
    """The tenant an object belongs to: itself, or its `tenant` attribute."""
    return obj if isinstance(obj, Tenant) else obj.tenant


class IsSiteAdmin(BasePermission):
    message = "Only site admins may do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_site_admin)


class IsTenantMember(BasePermission):
    """Object permission: a member, tenant admin or site admin of the object's tenant."""

    message = "You are not a member of this tenant."

    def has_object_permission(self, request, view, obj):
        return user_can_use_tenant(user=request.user, tenant=tenant_of(obj))


class IsTenantAdmin(BasePermission):
    """Object permission: a tenant admin of the object's tenant, or a site admin."""

    message = "Only this tenant's admins and site admins may do this."

    def has_object_permission(self, request, view, obj):
        return user_can_admin_tenant(user=request.user, tenant=tenant_of(obj))
