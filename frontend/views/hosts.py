"""Site admin pages of the Docker hosts: capacity, what is allocated, GPUs, state; add, drain,
disable, bring back, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.errors import ServiceError
from frontend.forms import HostAddForm, HostStateForm
from frontend.views.paging import paginate
from provisioning.errors import InvalidRequest
from provisioning.selectors import host_list
from provisioning.services.hosts import host_delete, host_register, host_set_state
from tenants.services.audit import client_ip


def _require_site_admin(request) -> None:
    if not request.user.is_site_admin:
        raise PermissionDenied("Only site admins manage hosts.")


@login_required
def host_list_page(request):
    _require_site_admin(request)
    page = paginate(request, host_list())
    return render(request, "frontend/hosts/list.html", {"page_obj": page, "hosts": page.object_list})


@login_required
def host_add_page(request):
    _require_site_admin(request)
    form = HostAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            host = host_register(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except InvalidRequest as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(
                request, f"Host {host.name} added: a worker is taking its inventory; its state shows here."
            )
            return redirect("host-list")
    return render(request, "frontend/hosts/add.html", {"form": form})


@login_required
@require_POST
def host_state_page(request, pk: int):
    _require_site_admin(request)
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
    _require_site_admin(request)
    host = get_object_or_404(host_list(), pk=pk)
    try:
        host_delete(actor=request.user, host=host, ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Host {host.name} deleted.")
    return redirect("host-list")
