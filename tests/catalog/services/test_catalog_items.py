import pytest
import yaml

from catalog.manifest import Manifest, ManifestError
from catalog.models import CatalogItem
from catalog.services.catalog_items import (
    catalog_item_register,
    catalog_item_set_enabled,
    catalog_item_sync_manifest,
)
from tenants.models import AuditEvent
from tests.catalog.factories import CatalogItemFactory, manifest


@pytest.mark.django_db
def test_sync_creates_then_updates_an_item_keeping_its_curation():
    item = catalog_item_sync_manifest(manifest=Manifest.from_json(manifest()), icon="<svg/>")

    assert (item.slug, item.version, item.default_flavor.name, item.enabled) == (
        "demo-notebook",
        "1.0.0",
        "small",
        True,
    )
    assert item.image.endswith("/demo-notebook:1.0.0")
    CatalogItem.objects.filter(pk=item.pk).update(enabled=False)

    updated = catalog_item_sync_manifest(
        manifest=Manifest.from_json(manifest(version="1.1.0", gpu=True)), icon="<svg/>"
    )

    assert updated.pk == item.pk
    assert (updated.version, updated.gpu_capable, updated.enabled) == ("1.1.0", True, False)


@pytest.mark.django_db
def test_register_refuses_an_image_the_registry_lacks_and_records_nothing(site_admin, registry):
    text = yaml.safe_dump(manifest(slug="not-pushed", version="9.9.9", default_flavor="huge"))

    with pytest.raises(ManifestError) as caught:
        catalog_item_register(manifest_text=text, icon="", actor=site_admin, registry=registry)

    assert caught.value.errors == [
        "default_flavor: unknown flavor 'huge'",
        f"image: unknown image {registry.address}/not-pushed:9.9.9 in the registry",
    ]
    assert not CatalogItem.objects.exists()


@pytest.mark.django_db
def test_register_adds_an_item_for_a_pushed_image(site_admin, registry, tiny_image, builder):
    from catalog.services.images import image_publish

    source, slug, version = tiny_image
    image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)
    text = yaml.safe_dump(manifest(slug=slug, version=version))

    item = catalog_item_register(manifest_text=text, icon="<svg/>", actor=site_admin, registry=registry)

    assert item.image == f"{registry.address}/{slug}:{version}"
    assert AuditEvent.objects.get(action="catalog.create").object_id == str(item.pk)
    with pytest.raises(ManifestError) as caught:
        catalog_item_register(manifest_text=text, icon="", actor=site_admin, registry=registry)
    assert caught.value.errors == [f"slug: the catalog already has an item {slug!r}"]


@pytest.mark.django_db
def test_disabling_is_audited_once_and_hides_the_item_from_launch(site_admin):
    from catalog.selectors import catalog_item_list_launchable

    item = CatalogItemFactory()

    catalog_item_set_enabled(item=item, enabled=False, actor=site_admin, ip="10.0.0.1")
    catalog_item_set_enabled(item=item, enabled=False, actor=site_admin)

    assert list(catalog_item_list_launchable()) == []
    event = AuditEvent.objects.get(action="catalog.disable")
    assert (event.actor, event.ip) == (site_admin, "10.0.0.1")
    catalog_item_set_enabled(item=item, enabled=True, actor=site_admin)
    assert list(catalog_item_list_launchable()) == [item]
