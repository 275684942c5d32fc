"""image_publish against the real engine and registry: built once, then skipped."""

import pytest
from django.conf import settings

from catalog.services.images import CONTEXT_HASH_LABEL, ImagePublish, image_publish
from tests.catalog.conftest import registry_delete


def test_an_image_is_built_once_then_up_to_date_then_only_pushed(tiny_image, builder, registry):
    source, slug, version = tiny_image

    first = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert first.action == ImagePublish.BUILT
    assert first.image == f"{settings.IMAGE_REGISTRY}/{slug}:{version}"
    assert registry.image_labels(slug=slug, version=version)[CONTEXT_HASH_LABEL] == first.context_hash

    again = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert again.action == ImagePublish.UP_TO_DATE
    assert again.context_hash == first.context_hash

    registry_delete(slug=slug, version=version)
    pushed = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert pushed.action == ImagePublish.PUSHED
    assert registry.has_image(slug=slug, version=version)


def test_a_changed_file_rebuilds(tiny_image, builder, registry):
    source, slug, version = tiny_image
    first = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    (source / "hello.txt").write_text("changed\n")
    second = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert second.action == ImagePublish.BUILT
    assert second.context_hash != first.context_hash


def test_a_failing_build_says_which_step_failed(tiny_image, builder, registry):
    from catalog.imagebuilder import ImageBuildFailed

    source, slug, version = tiny_image
    (source / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo broken && exit 3\n")

    with pytest.raises(ImageBuildFailed) as caught:
        image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert "returned a non-zero code: 3" in str(caught.value)
    assert "broken" in caught.value.log
    assert not registry.has_image(slug=slug, version=version)
