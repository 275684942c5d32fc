"""The App Store pages: browsing for everyone; adding apps, their image builds and enabling or
disabling them for site admins."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.filtersets import CatalogItemFilterSet
from catalog.manifest import ManifestError
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.selectors import app_store, catalog_item_list, image_build_list
from catalog.services.builds import image_build_request
from catalog.services.catalog_items import catalog_item_register, catalog_item_set_enabled
from catalog.states import IMAGE_BUILD_ACTIVE
from common.client_ip import client_ip
from common.forms import add_service_error
from frontend.catalog_forms import CatalogItemAddForm
from frontend.views.guards import require_site_admin
from frontend.views.paging import paginate

SITE_ADMINS = "Only site admins curate the catalog."
#: A grid of cards: 12 fill whole rows of 1, 2 and 3 columns.
PER_PAGE = 12


@login_required
def catalog_list_page(request):
    filterset = CatalogItemFilterSet(request.GET or None, queryset=catalog_item_list(user=request.user))
    page = paginate(request, filterset.qs, per_page=PER_PAGE)
    return render(
        request,
        "frontend/catalog/list.html",
        {"filter": filterset, "page_obj": page, "store": app_store(items=list(page.object_list))},
    )


@login_required
def catalog_detail_page(request, slug):
    item = get_object_or_404(catalog_item_list(user=request.user), slug=slug)
    return render(request, "frontend/catalog/detail.html", {"item": item})


@login_required
@require_POST
def catalog_set_enabled_page(request, slug, enabled: bool):
    require_site_admin(request, SITE_ADMINS)
    item = get_object_or_404(catalog_item_list(user=request.user), slug=slug)
    catalog_item_set_enabled(item=item, enabled=enabled, actor=request.user, ip=client_ip(request))
    messages.success(request, f"{item.name} {'enabled' if enabled else 'disabled'}.")
    return redirect("catalog:detail", slug=item.slug)


@login_required
def catalog_add_page(request):
    require_site_admin(request, SITE_ADMINS)
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
    return render(request, "frontend/catalog/add.html", {"form": form})


@login_required
def image_build_page(request, pk):
    build = get_object_or_404(image_build_list(user=request.user), pk=pk)
    return render(
        request,
        "frontend/catalog/build.html",
        {"build": build, "building": build.status in IMAGE_BUILD_ACTIVE},
    )
