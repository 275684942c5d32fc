"""The build context: what is copied in, and when its hash changes."""

import os

import pytest

from catalog.manifest import ManifestError
from catalog.services import build_context
from catalog.services.build_context import (
    build_context_assemble,
    build_context_hash,
    layer_build_arg,
    layers_used,
)


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    folder = tmp_path / "wheels"
    folder.mkdir()
    (folder / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"wheel")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def image_folder(tmp_path, dockerfile: str):
    source = tmp_path / "source"
    source.mkdir()
    (source / "Dockerfile").write_text(dockerfile)
    (source / "entrypoint").write_text("#!/bin/sh\n")
    return source


def test_context_gets_the_ca_bundle_but_no_wheel_unless_asked(tmp_path, wheels):
    source = image_folder(tmp_path, "FROM base\nCOPY entrypoint /\n")
    context = tmp_path / "context"

    build_context_assemble(source=source, destination=context)

    names = sorted(path.name for path in context.iterdir())
    assert names == ["Dockerfile", "ca-certificates.crt", "entrypoint"]
    assert (context / "ca-certificates.crt").read_bytes() == build_context.CA_BUNDLE.read_bytes()


def test_a_dockerfile_that_copies_torch_gets_the_wheel_under_its_own_name(tmp_path, wheels):
    source = image_folder(tmp_path, "FROM base\nCOPY torch-*.whl /tmp/\n")
    context = tmp_path / "context"

    build_context_assemble(source=source, destination=context)

    assert (context / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").read_bytes() == b"wheel"


def test_a_missing_wheel_is_a_clear_error(tmp_path, wheels):
    for wheel in wheels.iterdir():
        wheel.unlink()
    source = image_folder(tmp_path, "FROM base\nCOPY torch-*.whl /tmp/\n")

    with pytest.raises(ManifestError) as caught:
        build_context_assemble(source=source, destination=tmp_path / "context")

    assert caught.value.errors == [
        f"Dockerfile: copies torch-*.whl but there is none in {wheels} ($PIP_FIND_LINKS)"
    ]


def test_a_folder_without_dockerfile_is_refused(tmp_path):
    source = tmp_path / "empty"
    source.mkdir()

    with pytest.raises(ManifestError) as caught:
        build_context_assemble(source=source, destination=tmp_path / "context")

    assert caught.value.errors == [f"Dockerfile: missing in {source}"]


def test_the_hash_changes_with_content_mode_base_image_and_build_args(tmp_path):
    context = image_folder(tmp_path, "FROM base\n")

    def digest(base="sha256:1", args=None):
        return build_context_hash(context=context, base_image_id=base, buildargs=args or {"BASE_IMAGE": "b"})

    first = digest()
    assert digest() == first
    assert digest(base="sha256:2") != first
    assert digest(args={"BASE_IMAGE": "c"}) != first
    os.chmod(context / "entrypoint", 0o700)
    executable = digest()
    assert executable != first
    (context / "entrypoint").write_text("#!/bin/sh\nexit 0\n")
    assert digest() != executable


def test_the_hash_changes_with_the_image_of_a_layer_it_is_built_on(tmp_path):
    context = image_folder(tmp_path, "ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    args = {"BASE_IMAGE": "b", "RUNTIME_IMAGE": "portal/layer-runtime:0123456789ab"}

    def digest(layer_id):
        return build_context_hash(
            context=context, base_image_id="sha256:1", buildargs=args, layer_image_ids={"runtime": layer_id}
        )

    assert digest("sha256:a") == digest("sha256:a")
    # The same files rebuilt (newer Debian packages) make another layer image: the image follows.
    assert digest("sha256:b") != digest("sha256:a")


def test_a_dockerfile_builds_on_the_layers_whose_argument_it_declares():
    def used(dockerfile):
        return layers_used(dockerfile=dockerfile, layers=["python-ml", "runtime"])

    assert layer_build_arg("python-ml") == "PYTHON_ML_IMAGE"
    assert used("ARG PYTHON_ML_IMAGE\nFROM ${PYTHON_ML_IMAGE}\n") == ["python-ml"]
    assert used("ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n") == ["runtime"]
    assert used("ARG BASE_IMAGE=portal/base:bookworm\nFROM ${BASE_IMAGE}\n") == []
