"""The App Store pages, as members and site admins see them."""

import pytest
import yaml

from catalog.models import CatalogItem, Flavor, ImageBuild
from tests.catalog.factories import CatalogItemFactory, manifest


@pytest.fixture
def items(db):
    return [
        CatalogItemFactory(
            slug="jupyter-pytorch", name="JupyterLab + PyTorch", icon="<svg><script>x</script></svg>"
        ),
        CatalogItemFactory(
            slug="pytorch-ddp", name="PyTorch DDP cluster", category=CatalogItem.Category.TRAINING
        ),
        CatalogItemFactory(slug="retired", name="Retired notebook", enabled=False),
    ]


def test_members_browse_enabled_items_and_filter_them(client, member, items):
    client.force_login(member)

    page = client.get("/catalog/").content.decode()
    training = client.get("/catalog/?category=training").content.decode()
    searched = client.get("/catalog/?search=jupyter").content.decode()

    assert "JupyterLab + PyTorch" in page and "PyTorch DDP cluster" in page
    assert "Retired notebook" not in page
    assert "Add an app" not in page
    assert "JupyterLab" not in training and "PyTorch DDP cluster" in training
    assert "JupyterLab" in searched and "DDP" not in searched
    assert client.get("/catalog/apps/retired/").status_code == 404


def test_icons_are_shown_as_images_never_inline(client, member, items):
    client.force_login(member)

    page = client.get("/catalog/apps/jupyter-pytorch/").content.decode()

    assert 'src="data:image/svg+xml;base64,' in page
    assert "<script>" not in page


def test_site_admin_disables_an_item_from_its_page(client, site_admin, member, items):
    client.force_login(site_admin)

    response = client.post("/catalog/apps/jupyter-pytorch/disable/", follow=True)

    assert "disabled: no new sandboxes" in response.content.decode()
    assert not CatalogItem.objects.get(slug="jupyter-pytorch").enabled
    client.force_login(member)
    assert client.post("/catalog/apps/pytorch-ddp/disable/").status_code == 403


def test_adding_an_unpushed_image_shows_every_mistake(client, site_admin, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(site_admin)
    text = yaml.safe_dump(manifest(slug="nowhere", version="0.0.1", default_flavor="huge"))

    response = client.post("/catalog/new/", {"manifest": SimpleUploadedFile("manifest.yaml", text.encode())})

    page = response.content.decode()
    assert response.status_code == 200
    assert "default_flavor: unknown flavor &#x27;huge&#x27;" in page
    assert f"image: unknown image {settings.IMAGE_REGISTRY}/nowhere:0.0.1 in the registry" in page
    assert not CatalogItem.objects.exists()


def test_adding_with_a_dockerfile_starts_a_build(client, site_admin, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(site_admin)
    text = yaml.safe_dump(manifest(slug="uploaded"))

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/catalog/new/",
            {
                "manifest": SimpleUploadedFile("manifest.yaml", text.encode()),
                "dockerfile": SimpleUploadedFile("Dockerfile", b"FROM scratch\n"),
            },
            follow=True,
        )

    build = ImageBuild.objects.get()
    assert response.redirect_chain[-1][0] == f"/catalog/builds/{build.pk}/"
    assert "Waiting for a worker" in response.content.decode()


def test_members_see_flavors_site_admins_edit_them(client, site_admin, member):
    client.force_login(member)
    assert "16384" in client.get("/flavors/").content.decode()
    assert client.get("/flavors/new/").status_code == 403

    client.force_login(site_admin)
    client.post("/flavors/new/", {"name": "xl", "cpus": "8", "memory_mib": 32768, "gpus": 0, "disk_gib": 100})
    client.post(
        "/flavors/xl/edit/", {"name": "xl", "cpus": "16", "memory_mib": 32768, "gpus": 0, "disk_gib": 100}
    )
    refused = client.post(
        "/flavors/new/", {"name": "zero", "cpus": "0", "memory_mib": 1, "gpus": 0, "disk_gib": 1}
    )

    assert Flavor.objects.get(name="xl").cpus == 16
    assert "Ensure this value is greater than or equal to 0.01." in refused.content.decode()
    client.post("/flavors/xl/delete/")
    assert not Flavor.objects.filter(name="xl").exists()


def shipped_build(slug: str, **fields) -> ImageBuild:
    """A build of a shipped image, as `make run` records it (no uploaded Dockerfile)."""
    return ImageBuild.objects.create(
        slug=slug, version="1.0.0", manifest=manifest(slug=slug, name=f"App {slug}"), **fields
    )


def test_the_app_store_shows_shipped_apps_building_with_their_step_and_log(client, member, items):
    building = shipped_build(
        "tensorflow", status=ImageBuild.Status.RUNNING, log="Step 1/5 : FROM base\nStep 2/5 : RUN pip install"
    )
    waiting = shipped_build("spark")
    failed = shipped_build("broken", status=ImageBuild.Status.FAILED, explanation="pip: no such package")
    shipped_build("pytorch-ddp", status=ImageBuild.Status.SUCCEEDED)
    client.force_login(member)

    page = client.get("/catalog/").content.decode()

    assert "Being added" in page
    assert 'data-app-image="tensorflow" data-state="building"' in page and "step 2/5" in page
    assert 'data-app-image="spark" data-state="building"' in page and "waiting for its turn" in page
    assert 'data-app-image="broken" data-state="failed"' in page and "pip: no such package" in page
    assert 'data-app-image="pytorch-ddp" data-state="ready"' in page
    for build in (building, waiting, failed):
        assert f'href="/catalog/builds/{build.pk}/"' in page
    # Something is still being built: the page refreshes itself.
    assert 'hx-trigger="every 3s"' in page
    # Members read the log of a shipped build, never that of a site admin's upload.
    assert client.get(f"/catalog/builds/{failed.pk}/").status_code == 200
    upload = ImageBuild.objects.create(
        slug="mine", version="1", manifest=manifest(slug="mine"), dockerfile="FROM x"
    )
    assert client.get(f"/catalog/builds/{upload.pk}/").status_code == 404


def test_the_app_store_stops_refreshing_once_every_image_is_ready(client, member, items):
    shipped_build("pytorch-ddp", status=ImageBuild.Status.SUCCEEDED)
    client.force_login(member)

    page = client.get("/catalog/").content.decode()

    assert 'data-app-image="pytorch-ddp" data-state="ready"' in page
    assert "Being added" not in page and 'hx-trigger="every 3s"' not in page
