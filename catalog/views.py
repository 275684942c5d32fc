"""Browser pages of the App Store: browsing for everyone, curation and flavors for site admins."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.filtersets import CatalogItemFilterSet
from catalog.forms import CatalogItemAddForm, FlavorForm
from catalog.manifest import ManifestError
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.selectors import catalog_items_visible_to, flavors_list, image_builds_list
from catalog.services.builds import image_build_request
from catalog.services.catalog_items import catalog_item_register, catalog_item_set_enabled
from catalog.services.flavors import FlavorInUse, flavor_create, flavor_delete, flavor_update
from common.client_ip import client_ip
from common.forms import add_service_error


def _require_site_admin(request) -> None:
    if not request.user.is_site_admin:
        raise PermissionDenied("Only site admins curate the catalog.")


@login_required
def catalog_list_page(request):
    filterset = CatalogItemFilterSet(
        request.GET or None, queryset=catalog_items_visible_to(user=request.user)
    )
    page = Paginator(filterset.qs, 12).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/catalog_list.html",
        {"filter": filterset, "page_obj": page, "items": page.object_list},
    )


@login_required
def catalog_detail_page(request, slug):
    item = get_object_or_404(catalog_items_visible_to(user=request.user), slug=slug)
    return render(request, "catalog/catalog_detail.html", {"item": item})


@login_required
@require_POST
def catalog_set_enabled_page(request, slug, enabled: bool):
    _require_site_admin(request)
    item = get_object_or_404(catalog_items_visible_to(user=request.user), slug=slug)
    catalog_item_set_enabled(item=item, enabled=enabled, actor=request.user, ip=client_ip(request))
    messages.success(request, f"{item.name} {'enabled' if enabled else 'disabled'}.")
    return redirect("catalog:detail", slug=item.slug)


@login_required
def catalog_add_page(request):
    _require_site_admin(request)
    form = CatalogItemAddForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data, ip = form.cleaned_data, client_ip(request)
        try:
            if data["dockerfile"]:
                build = image_build_request(
                    manifest_text=data["manifest"],
                    dockerfile=data["dockerfile"],
                    icon=data["icon"],
                    actor=request.user,
                    ip=ip,
                )
                return redirect("catalog:build", pk=build.pk)
            item = catalog_item_register(
                manifest_text=data["manifest"],
                icon=data["icon"],
                actor=request.user,
                registry=RegistryClient(address=settings.IMAGE_REGISTRY),
                ip=ip,
            )
        except (ManifestError, RegistryUnavailable) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{item.name} added to the catalog.")
            return redirect("catalog:detail", slug=item.slug)
    return render(request, "catalog/catalog_add.html", {"form": form})


@login_required
def image_build_page(request, pk):
    _require_site_admin(request)
    build = get_object_or_404(image_builds_list(), pk=pk)
    return render(request, "catalog/image_build.html", {"build": build})


@login_required
def flavor_list_page(request):
    return render(request, "catalog/flavor_list.html", {"flavors": flavors_list()})


@login_required
def flavor_create_page(request):
    _require_site_admin(request)
    form = FlavorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        flavor = flavor_create(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        messages.success(request, f"Flavor {flavor.name} created.")
        return redirect("catalog:flavors")
    return render(request, "catalog/flavor_form.html", {"form": form})


@login_required
def flavor_edit_page(request, name):
    _require_site_admin(request)
    flavor = get_object_or_404(flavors_list(), name=name)
    form = FlavorForm(request.POST or None, instance=flavor)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field != "name"}
        flavor_update(flavor=flavor, actor=request.user, ip=client_ip(request), **changes)
        messages.success(request, f"Flavor {flavor.name} saved.")
        return redirect("catalog:flavors")
    return render(request, "catalog/flavor_form.html", {"form": form, "flavor": flavor})


@login_required
@require_POST
def flavor_delete_page(request, name):
    _require_site_admin(request)
    flavor = get_object_or_404(flavors_list(), name=name)
    try:
        flavor_delete(flavor=flavor, actor=request.user, ip=client_ip(request))
    except FlavorInUse as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Flavor {name} deleted.")
    return redirect("catalog:flavors")
