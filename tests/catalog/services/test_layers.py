"""Shared layers against the real engine and registry: built before the image that uses them,
each once, reused while unchanged, and rebuilt (with what is built on them) when they change."""

import contextlib
import uuid

import docker.errors
import pytest

from catalog.manifest import ManifestError
from catalog.services import layers as layers_module
from catalog.services.images import ImagePublish, image_publish
from catalog.services.layers import LayerPublish, layers_publish

LOWER = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY lower.txt /lower.txt\n"
UPPER = "ARG PYTEST_LOWER_IMAGE\nFROM ${PYTEST_LOWER_IMAGE}\nCOPY upper.txt /upper.txt\n"
ON_UPPER = "ARG PYTEST_UPPER_IMAGE\nFROM ${PYTEST_UPPER_IMAGE}\n"


@pytest.fixture
def layers_root(tmp_path, monkeypatch, docker_client):
    """Two tiny layers, pytest-upper built on pytest-lower, with unique files (their first
    build really builds); every tag they got is removed from the engine afterwards."""
    root = tmp_path / "layers"
    for name, dockerfile in (("pytest-lower", LOWER), ("pytest-upper", UPPER)):
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(dockerfile)
        (root / name / f"{name.removeprefix('pytest-')}.txt").write_text(f"{name} {uuid.uuid4()}\n")
    monkeypatch.setattr(layers_module, "layers_root", lambda: root)
    yield root
    for name in ("pytest-lower", "pytest-upper"):
        for image in docker_client.images.list(name=f"portal/layer-{name}"):
            for tag in image.tags:
                with contextlib.suppress(docker.errors.ImageNotFound):
                    docker_client.images.remove(tag, force=True)


def test_an_image_builds_on_its_layers_which_are_built_once_and_rebuilt_when_changed(
    layers_root, tiny_image, builder, registry, docker_client
):
    source, slug, version = tiny_image
    (source / "Dockerfile").write_text(ON_UPPER + "COPY hello.txt /\n")

    first = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)

    assert first.action == ImagePublish.BUILT
    files = docker_client.containers.run(
        first.image, ["cat", "/lower.txt", "/upper.txt", "/hello.txt"], remove=True
    ).decode()
    lower, upper, _ = files.splitlines()
    assert lower.startswith("pytest-lower ") and upper.startswith("pytest-upper ")
    built = layers_publish(builder=builder)
    assert list(built) == ["pytest-lower", "pytest-upper"]  # the lower one first
    assert {layer.action for layer in built.values()} == {LayerPublish.UP_TO_DATE}
    assert built["pytest-upper"].image.startswith("portal/layer-pytest-upper:")
    assert (
        image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry).action
        == ImagePublish.UP_TO_DATE
    )

    (layers_root / "pytest-lower" / "lower.txt").write_text("changed\n")
    rebuilt = layers_publish(builder=builder, names=["pytest-upper"])

    assert [layer.action for layer in rebuilt.values()] == [LayerPublish.BUILT, LayerPublish.BUILT]
    again = image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)
    assert again.action == ImagePublish.BUILT and again.context_hash != first.context_hash
    assert docker_client.containers.run(again.image, ["cat", "/lower.txt"], remove=True) == b"changed\n"


def test_an_unknown_layer_or_a_cycle_is_a_clear_error(layers_root, builder):
    with pytest.raises(ManifestError, match="no folder .* for: pytest-nope"):
        layers_publish(builder=builder, names=["pytest-nope"])
    (layers_root / "pytest-lower" / "Dockerfile").write_text(ON_UPPER)
    with pytest.raises(ManifestError, match="pytest-upper -> pytest-lower -> pytest-upper is a cycle"):
        layers_publish(builder=builder, names=["pytest-upper"])
