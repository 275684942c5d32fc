"""DataTap pages: every member sees the tenant's DataTaps, tenant admins add and delete them,
site admins keep the allowlist of host path prefixes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.client_ip import client_ip
from common.forms import add_service_error
from frontend.datatap_forms import DataTapForm, HostPathPrefixForm
from frontend.views.guards import require_site_admin, require_tenant_admin
from frontend.views.paging import paginate
from provisioning.errors import InUse, InvalidRequest
from provisioning.selectors import datatap_list, hostpath_prefix_list
from provisioning.services.datataps import (
    datatap_create,
    datatap_delete,
    hostpath_prefix_add,
    hostpath_prefix_remove,
)
from tenants.models import Tenant

SITE_ADMINS = "Only site admins manage the host path allowlist."


@login_required
def datatap_list_page(request):
    page = paginate(request, datatap_list(user=request.user))
    administered = set(Tenant.objects.administered_by(request.user).values_list("pk", flat=True))
    for datatap in page.object_list:
        datatap.can_delete = datatap.tenant_id in administered
    return render(
        request,
        "frontend/datataps/list.html",
        {"page_obj": page, "datataps": page.object_list, "can_create": bool(administered)},
    )


@login_required
def datatap_create_page(request):
    tenants = Tenant.objects.administered_by(request.user).order_by("slug")
    if not tenants.exists():
        raise PermissionDenied("Only tenant admins and site admins add DataTaps.")
    form = DataTapForm(request.POST or None, tenants=tenants)
    if request.method == "POST" and form.is_valid():
        args = form.cleaned_data
        try:
            datatap = datatap_create(actor=request.user, ip=client_ip(request), **args)
        except InvalidRequest as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"DataTap {datatap.name} added to {datatap.tenant.slug}.")
            return redirect("datatap-list")
    return render(request, "frontend/datataps/create.html", {"form": form})


@login_required
@require_POST
def datatap_delete_page(request, pk: int):
    datatap = get_object_or_404(datatap_list(user=request.user), pk=pk)
    require_tenant_admin(
        request, datatap.tenant, "Only this tenant's admins and site admins delete its DataTaps."
    )
    try:
        datatap_delete(actor=request.user, datatap=datatap, ip=client_ip(request))
    except InUse as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"DataTap {datatap.name} deleted.")
    return redirect("datatap-list")


@login_required
def hostpath_prefix_list_page(request):
    require_site_admin(request, SITE_ADMINS)
    form = HostPathPrefixForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            prefix = hostpath_prefix_add(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except InvalidRequest as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Host paths under {prefix.path} may now be DataTaps.")
            return redirect("datatap-prefix-list")
    return render(
        request, "frontend/datataps/prefixes.html", {"prefixes": hostpath_prefix_list(), "form": form}
    )


@login_required
@require_POST
def hostpath_prefix_delete_page(request, pk: int):
    require_site_admin(request, SITE_ADMINS)
    prefix = get_object_or_404(hostpath_prefix_list(), pk=pk)
    hostpath_prefix_remove(actor=request.user, prefix=prefix, ip=client_ip(request))
    messages.success(
        request, f"{prefix.path} removed; its DataTaps can no longer be mounted by new sandboxes."
    )
    return redirect("datatap-prefix-list")
