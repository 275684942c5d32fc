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


@pytest.mark.django_db(transaction=True)
def test_a_build_that_pushed_sends_the_prune_and_an_up_to_date_one_does_not(
    site_admin, seeded_flavors, settings, monkeypatch, docker_client
):
    from celery import current_app

    settings.IMAGE_PUBLISHED_TASKS = ["provisioning.tasks.images_prune"]
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, *args, **kwargs: sent.append(name))
    slug, version = "pytest-upload", f"{time.time_ns()}"

    def build_once() -> ImageBuild:
        build = ImageBuild.objects.create(
            slug=slug,
            version=version,
            manifest=manifest(slug=slug, version=version),
            dockerfile=DOCKERFILE.replace("{nonce}", version),
            requested_by=site_admin,
        )
        return image_build_run(build_id=build.pk)

    try:
        first = build_once()
        assert first.status == ImageBuild.Status.SUCCEEDED, first.explanation
        assert sent == ["provisioning.tasks.images_prune"]
        again = build_once()
        assert again.log.startswith("up to date") and sent == ["provisioning.tasks.images_prune"]
    finally:
        image_remove(docker_client, slug=slug, version=version)
