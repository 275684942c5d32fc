"""Builds requested with an uploaded manifest and Dockerfile, run by the real Celery worker."""

import time

import pytest
import yaml

from catalog.manifest import ManifestError
from catalog.models import CatalogItem, ImageBuild
from catalog.services.builds import image_build_request, image_build_run
from catalog.states import IMAGE_BUILD_FINAL
from tests.catalog.conftest import image_remove
from tests.catalog.factories import CatalogItemFactory, manifest

DOCKERFILE = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nLABEL org.sandbox-portal.test={nonce}\n"


def wait_for_build(build_id: int, *, seconds: float) -> ImageBuild:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        build = ImageBuild.objects.get(pk=build_id)
        if build.status in IMAGE_BUILD_FINAL:
            return build
        time.sleep(0.5)
    raise AssertionError(f"build {build_id} still {build.status} after {seconds}s")


@pytest.mark.django_db
def test_a_bad_request_lists_every_mistake_and_records_nothing(site_admin):
    CatalogItemFactory(slug="taken")
    text = yaml.safe_dump(manifest(slug="taken", category="games"))

    with pytest.raises(ManifestError) as caught:
        image_build_request(manifest_text=text, dockerfile=" ", icon="", actor=site_admin)

    assert caught.value.errors == ["category: 'games' is not one of notebook, training, batch"]
    with pytest.raises(ManifestError) as caught:
        image_build_request(
            manifest_text=yaml.safe_dump(manifest(slug="taken")), dockerfile=" ", icon="", actor=site_admin
        )
    assert caught.value.errors == [
        "slug: the catalog already has an item 'taken'",
        "dockerfile: must not be empty",
    ]
    assert not ImageBuild.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_builds_pushes_and_adds_the_item(
    site_admin, seeded_flavors, celery_worker_process, registry, docker_client
):
    slug, version = "pytest-upload", f"{time.time_ns()}"
    text = yaml.safe_dump(manifest(slug=slug, version=version))
    try:
        build = image_build_request(
            manifest_text=text,
            dockerfile=DOCKERFILE.replace("{nonce}", version),
            icon="<svg/>",
            actor=site_admin,
        )
        build = wait_for_build(build.pk, seconds=120)

        assert build.status == ImageBuild.Status.SUCCEEDED, build.explanation
        assert build.catalog_item == CatalogItem.objects.get(slug=slug)
        assert registry.has_image(slug=slug, version=version)
        # Running it again (a redelivered task) changes nothing.
        assert image_build_run(build_id=build.pk).status == ImageBuild.Status.SUCCEEDED
    finally:
        image_remove(docker_client, slug=slug, version=version)


@pytest.mark.django_db
def test_a_failing_build_is_marked_failed_with_the_engine_s_words(site_admin, registry):
    build = ImageBuild.objects.create(
        slug="pytest-broken",
        version="1",
        manifest=manifest(slug="pytest-broken", version="1"),
        dockerfile="ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo nope && false\n",
        requested_by=site_admin,
    )

    build = image_build_run(build_id=build.pk)

    assert build.status == ImageBuild.Status.FAILED
    assert "returned a non-zero code: 1" in build.explanation
    assert "nope" in build.log
    assert not CatalogItem.objects.filter(slug="pytest-broken").exists()
