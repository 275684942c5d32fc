"""Site admin pages of the Docker hosts: capacity, what is allocated, GPUs, state; add, drain,
disable, bring back, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.models import CatalogItem, Flavor
from common.client_ip import client_ip
from common.errors import ServiceError
from common.forms import add_service_error
from frontend.forms import HostAddForm, HostStateForm, PoolForm
from frontend.views.guards import require_site_admin
from frontend.views.paging import paginate
from provisioning.errors import InvalidRequest
from provisioning.pool_selectors import pool_list, pool_role
from provisioning.selectors import host_list
from provisioning.services.hosts import host_delete, host_register, host_set_state
from provisioning.services.pools import pool_set

SITE_ADMINS = "Only site admins manage hosts."


@login_required
def host_list_page(request):
    require_site_admin(request, SITE_ADMINS)
    page = paginate(request, host_list())
    return render(
        request,
        "frontend/hosts/list.html",
        {"page_obj": page, "hosts": page.object_list, "pools": pool_list(), "pool_form": _pool_form()},
    )


def _pool_form(data=None) -> PoolForm:
    items = [i for i in CatalogItem.objects.filter(enabled=True).order_by("slug") if pool_role(i)]
    return PoolForm(data, items=items, flavors=Flavor.objects.filter(gpus=0).order_by("cpus", "name"))


@login_required
@require_POST
def host_pool_set_page(request):
    require_site_admin(request, SITE_ADMINS)
    form = _pool_form(request.POST)
    if form.is_valid():
        try:
            setting = pool_set(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Each host now keeps {setting.size} ready {setting.catalog_item.slug} "
                f"({setting.flavor.name}) nodes; they start in the background.",
            )
    else:
        messages.error(request, "Choose a catalog item, a flavor and a number of nodes (0 or more).")
    return redirect("host-list")


@login_required
def host_add_page(request):
    require_site_admin(request, SITE_ADMINS)
    form = HostAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            host = host_register(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except InvalidRequest as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request, f"Host {host.name} added: a worker is taking its inventory; its state shows here."
            )
            return redirect("host-list")
    return render(request, "frontend/hosts/add.html", {"form": form})


@login_required
@require_POST
def host_state_page(request, pk: int):
    require_site_admin(request, SITE_ADMINS)
    host = get_object_or_404(host_list(), pk=pk)
    form = HostStateForm(request.POST)
    if form.is_valid():
        host = host_set_state(
            actor=request.user, host=host, state=form.cleaned_data["state"], ip=client_ip(request)
        )
        messages.success(request, f"Host {host.name} is now {host.state}.")
    else:
        messages.error(request, "Choose ready, draining or disabled.")
    return redirect("host-list")


@login_required
@require_POST
def host_delete_page(request, pk: int):
    require_site_admin(request, SITE_ADMINS)
    host = get_object_or_404(host_list(), pk=pk)
    try:
        host_delete(actor=request.user, host=host, ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Host {host.name} deleted.")
    return redirect("host-list")
