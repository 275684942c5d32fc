"""Who may do what on a page: the role checks of the browser UI, each written once. A check that
fails raises PermissionDenied (403); what the user may not even see is a 404 before it."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from provisioning.selectors import sandbox_can_manage, sandbox_list
from tenants.selectors.memberships import user_can_admin_tenant
from tenants.selectors.tenants import tenant_list


def require_site_admin(request, reason: str) -> None:
    """`reason` says who may, e.g. "Only site admins manage hosts."."""
    if not request.user.is_site_admin:
        raise PermissionDenied(reason)


def require_tenant_admin(request, tenant, reason: str) -> None:
    """The tenant's admins and site admins pass."""
    if not user_can_admin_tenant(user=request.user, tenant=tenant):
        raise PermissionDenied(reason)


def visible_tenant(request, slug: str, *, admin: bool = False):
    """A tenant the user may see (else 404) and, with `admin`, manage (else 403)."""
    tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
    if admin:
        require_tenant_admin(request, tenant, "Only this tenant's admins and site admins may do this.")
    return tenant


def visible_sandbox(request, pk: int, *, manage: str = ""):
    """A sandbox the user may see (else 404); with `manage` (the reason to give), one the user
    may change: its owner's and its tenant's admins' (else 403)."""
    sandbox = get_object_or_404(sandbox_list(user=request.user), pk=pk)
    if manage and not sandbox_can_manage(user=request.user, sandbox=sandbox):
        raise PermissionDenied(manage)
    return sandbox
