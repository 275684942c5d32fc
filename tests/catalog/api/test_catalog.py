"""GET|POST /api/v1/catalog/, GET|PATCH /api/v1/catalog/{slug}/, /api/v1/catalog-builds/."""

import pytest
import yaml
from rest_framework.test import APIClient

from catalog.models import CatalogItem, ImageBuild
from tests.catalog.factories import CatalogItemFactory, manifest


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def items(db):
    return [
        CatalogItemFactory(slug="jupyter-pytorch", name="JupyterLab + PyTorch"),
        CatalogItemFactory(
            slug="pytorch-ddp", name="PyTorch DDP cluster", category=CatalogItem.Category.TRAINING
        ),
        CatalogItemFactory(slug="retired", name="Retired notebook", enabled=False),
    ]


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


def test_members_see_enabled_items_only(api, member, items):
    api.force_authenticate(member)

    assert slugs(api.get("/api/v1/catalog/")) == ["jupyter-pytorch", "pytorch-ddp"]
    assert api.get("/api/v1/catalog/retired/").status_code == 404


def test_site_admins_see_every_item(api, site_admin, items):
    api.force_authenticate(site_admin)

    assert slugs(api.get("/api/v1/catalog/?enabled=false")) == ["retired"]
    assert api.get("/api/v1/catalog/retired/").json()["enabled"] is False


def test_filter_by_category_and_search_by_name(api, member, items):
    api.force_authenticate(member)

    assert slugs(api.get("/api/v1/catalog/?category=training")) == ["pytorch-ddp"]
    assert slugs(api.get("/api/v1/catalog/?search=jupyter")) == ["jupyter-pytorch"]
    assert slugs(api.get("/api/v1/catalog/?search=PYTORCH")) == ["jupyter-pytorch", "pytorch-ddp"]


def test_an_item_describes_its_image_roles_and_flavor(api, member, items, settings):
    api.force_authenticate(member)

    body = api.get("/api/v1/catalog/jupyter-pytorch/").json()

    assert body["image"] == f"{settings.IMAGE_REGISTRY}/jupyter-pytorch:1.0.0"
    assert body["roles"] == {
        "head": {"min_nodes": 1, "max_nodes": 1, "default_nodes": 1, "services": ["jupyter"]}
    }
    assert body["manifest"]["user"] == {"name": "scientist", "uid": 1000, "gid": 1000}


def test_anonymous_callers_are_refused(api, items):
    assert api.get("/api/v1/catalog/").status_code in (401, 403)


def test_site_admin_disables_and_enables_an_item(api, site_admin, member, items):
    api.force_authenticate(site_admin)

    response = api.patch("/api/v1/catalog/jupyter-pytorch/", {"enabled": False}, format="json")

    assert response.status_code == 200
    assert response.json()["enabled"] is False
    api.force_authenticate(member)
    assert api.get("/api/v1/catalog/jupyter-pytorch/").status_code == 404
    assert api.patch("/api/v1/catalog/pytorch-ddp/", {"enabled": False}, format="json").status_code == 403


def test_registering_an_image_missing_from_the_registry_is_a_400_with_every_mistake(
    api, site_admin, settings
):
    api.force_authenticate(site_admin)
    text = yaml.safe_dump(manifest(slug="nowhere", version="0.0.1", category="games"))

    response = api.post("/api/v1/catalog/", {"manifest": text}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["manifest"] == [
        "category: 'games' is not one of notebook, training, batch",
        f"image: unknown image {settings.IMAGE_REGISTRY}/nowhere:0.0.1 in the registry",
    ]
    assert not CatalogItem.objects.exists()


def test_registering_a_pushed_image_answers_201(api, site_admin, tiny_image, builder, registry):
    from catalog.services.images import image_publish

    source, slug, version = tiny_image
    image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)
    api.force_authenticate(site_admin)

    response = api.post(
        "/api/v1/catalog/",
        {"manifest": yaml.safe_dump(manifest(slug=slug, version=version)), "icon": "<svg/>"},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == slug
    assert CatalogItem.objects.get(slug=slug).icon == "<svg/>"


def test_members_cannot_add_items(api, member):
    api.force_authenticate(member)

    assert api.post("/api/v1/catalog/", {"manifest": "slug: x"}, format="json").status_code == 403
    assert api.post("/api/v1/catalog-builds/", {}, format="json").status_code == 403


def test_a_build_request_answers_202_and_can_be_followed(api, site_admin, django_capture_on_commit_callbacks):
    api.force_authenticate(site_admin)
    text = yaml.safe_dump(manifest(slug="uploaded", version="2.0"))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/catalog-builds/", {"manifest": text, "dockerfile": "FROM scratch\n"})

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert len(callbacks) == 1  # the task is enqueued only once the request's transaction commits
    build = ImageBuild.objects.get()
    assert api.get(f"/api/v1/catalog-builds/{build.pk}/").json()["slug"] == "uploaded"


def test_a_bad_build_request_is_a_400(api, site_admin):
    api.force_authenticate(site_admin)

    response = api.post("/api/v1/catalog-builds/", {"manifest": "slug: [", "dockerfile": "FROM x"})

    assert response.status_code == 400
    assert response.json()["manifest"] == [
        "line 1, column 8: expected the node content, but found '<stream end>'"
    ]
