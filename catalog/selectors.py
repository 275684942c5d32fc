"""Reads of the catalog, for the UI, the API and provisioning."""

from catalog.models import CatalogItem, Flavor, ImageBuild
from catalog.querysets import CatalogItemQuerySet


def catalog_item_list_launchable() -> CatalogItemQuerySet:
    """Items a new sandbox may be created from (enabled ones)."""
    return CatalogItem.objects.launchable().select_related("default_flavor")


def catalog_item_list(*, user) -> CatalogItemQuerySet:
    """What `user` browses: enabled items for members, every item for site admins."""
    return CatalogItem.objects.visible_to(user).select_related("default_flavor")


def flavor_list():
    return Flavor.objects.all()


def image_build_list():
    return ImageBuild.objects.select_related("requested_by", "catalog_item")
