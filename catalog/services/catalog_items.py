"""Writes of catalog items: sync from a manifest, registration of a pushed image, curation."""

from django.db import transaction

from catalog.manifest import Manifest, ManifestError, manifest_validate
from catalog.models import CatalogItem, Flavor
from catalog.registry import RegistryClient
from tenants.models import User
from tenants.services.audit import audit_record


@transaction.atomic
def catalog_item_sync_manifest(*, manifest: Manifest, icon: str) -> CatalogItem:
    """Create or update the item of a validated manifest. An existing item keeps its
    `enabled` flag: a site admin's curation survives rebuilds."""
    defaults = {
        "name": manifest.name,
        "version": manifest.version,
        "description": manifest.description,
        "category": manifest.category,
        "icon": icon,
        "gpu_capable": manifest.gpu,
        "default_flavor": Flavor.objects.filter(name=manifest.default_flavor).first(),
        "manifest": manifest.as_json(),
    }
    item, _ = CatalogItem.objects.update_or_create(slug=manifest.slug, defaults=defaults)
    return item


@transaction.atomic
def catalog_item_register(
    *, manifest_text: str, icon: str, actor: User, registry: RegistryClient, ip: str | None = None
) -> CatalogItem:
    """Add an item for an image already pushed to the registry. Raises ManifestError listing
    every mistake, an image the registry lacks and a slug the catalog already has included."""
    manifest = manifest_validate(
        manifest_text, flavors=set(Flavor.objects.values_list("name", flat=True)), registry=registry
    )
    if CatalogItem.objects.filter(slug=manifest.slug).exists():
        raise ManifestError([f"slug: the catalog already has an item {manifest.slug!r}"])
    item = catalog_item_sync_manifest(manifest=manifest, icon=icon)
    audit_record(actor=actor, action="catalog.create", target=item, ip=ip, detail={"image": item.image})
    return item


@transaction.atomic
def catalog_item_set_enabled(
    *, item: CatalogItem, enabled: bool, actor: User, ip: str | None = None
) -> CatalogItem:
    """Enable or disable an item; a disabled item takes no new sandboxes, running ones stay."""
    if item.enabled != enabled:
        item.enabled = enabled
        item.save(update_fields=["enabled", "updated"])
        audit_record(
            actor=actor, action="catalog.enable" if enabled else "catalog.disable", target=item, ip=ip
        )
    return item
