"""Flavor pages: everyone sees the sizes; site admins create, edit and delete them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.selectors import flavor_list
from catalog.services.flavors import FlavorInUse, flavor_create, flavor_delete, flavor_update
from common.client_ip import client_ip
from frontend.catalog_forms import FlavorForm
from frontend.views.guards import require_site_admin

SITE_ADMINS = "Only site admins curate the catalog."


@login_required
def flavor_list_page(request):
    return render(request, "frontend/flavors/list.html", {"flavors": flavor_list()})


@login_required
def flavor_create_page(request):
    require_site_admin(request, SITE_ADMINS)
    form = FlavorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        flavor = flavor_create(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        messages.success(request, f"Flavor {flavor.name} created.")
        return redirect("catalog:flavors")
    return render(request, "frontend/flavors/form.html", {"form": form})


@login_required
def flavor_edit_page(request, name):
    require_site_admin(request, SITE_ADMINS)
    flavor = get_object_or_404(flavor_list(), name=name)
    form = FlavorForm(request.POST or None, instance=flavor)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field != "name"}
        flavor_update(flavor=flavor, actor=request.user, ip=client_ip(request), **changes)
        messages.success(request, f"Flavor {flavor.name} saved.")
        return redirect("catalog:flavors")
    return render(request, "frontend/flavors/form.html", {"form": form, "flavor": flavor})


@login_required
@require_POST
def flavor_delete_page(request, name):
    require_site_admin(request, SITE_ADMINS)
    flavor = get_object_or_404(flavor_list(), name=name)
    try:
        flavor_delete(flavor=flavor, actor=request.user, ip=client_ip(request))
    except FlavorInUse as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Flavor {name} deleted.")
    return redirect("catalog:flavors")
