"""The build context of a catalog image or layer: its folder plus what every build needs from
the host.

Images are built without a public registry, so the context carries the host's CA bundle (TLS to
the package mirrors) and, for images that install PyTorch, the CPU wheel from $PIP_FIND_LINKS.
Files every image shares live in the layers (catalog/layers), which images are built FROM.
"""

import hashlib
import os
import re
import shutil
from pathlib import Path

from catalog.manifest import ManifestError

CONTEXT_HASH_LABEL = "org.sandbox-portal.context-hash"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_BUNDLE_NAME = "ca-certificates.crt"
# An image's Dockerfile names the layer it is built on by declaring its build argument:
# `ARG RUNTIME_IMAGE` for catalog/layers/runtime, `ARG PYTHON_ML_IMAGE` for python-ml.
ARG_RE = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE | re.MULTILINE)
WHEEL_PATTERN = "torch-*.whl"
# The rule for "this image needs the torch wheel": its Dockerfile COPYs a torch-* file.
NEEDS_WHEEL_RE = re.compile(r"^\s*COPY\s.*\btorch-", re.IGNORECASE | re.MULTILINE)
HASH_CHUNK = 1 << 20


def images_root() -> Path:
    return Path(__file__).resolve().parent.parent / "images"


def layers_root() -> Path:
    return Path(__file__).resolve().parent.parent / "layers"


def layer_build_arg(name: str) -> str:
    """The build argument that carries layer `name`'s image: python-ml -> PYTHON_ML_IMAGE."""
    return f"{name.upper().replace('-', '_')}_IMAGE"


def layers_used(*, dockerfile: str, layers: list[str]) -> list[str]:
    """Which of `layers` a Dockerfile builds on: those whose build argument it declares."""
    declared = {match.upper() for match in ARG_RE.findall(dockerfile)}
    return [name for name in layers if layer_build_arg(name) in declared]


def wheels_dir() -> Path:
    return Path(os.environ.get("PIP_FIND_LINKS", "/opt/wheels"))


def build_context_assemble(*, source: Path, destination: Path) -> None:
    """Fill the empty folder `destination` with `source`, the CA bundle and, when the Dockerfile
    asks for it, the torch wheel (under its own file name)."""
    dockerfile = source / "Dockerfile"
    if not dockerfile.is_file():
        raise ManifestError([f"Dockerfile: missing in {source}"])
    shutil.copytree(source, destination, dirs_exist_ok=True)
    shutil.copyfile(CA_BUNDLE, destination / CA_BUNDLE_NAME)
    if NEEDS_WHEEL_RE.search(dockerfile.read_text()):
        wheels = sorted(wheels_dir().glob(WHEEL_PATTERN))
        if not wheels:
            raise ManifestError(
                [f"Dockerfile: copies {WHEEL_PATTERN} but there is none in {wheels_dir()} ($PIP_FIND_LINKS)"]
            )
        for wheel in wheels:
            _link_or_copy(wheel, destination / wheel.name)


def build_context_hash(
    *,
    context: Path,
    base_image_id: str,
    buildargs: dict[str, str],
    layer_image_ids: dict[str, str] | None = None,
) -> str:
    """A digest of everything the build reads: each file's path, executable bit and content,
    the base image, the images of the layers it is built on (a layer rebuilt from the same files
    can differ: newer Debian packages) and the build arguments. Equal digests build equal images."""
    digest = hashlib.sha256()
    digest.update(f"base {base_image_id}\n".encode())
    for name in sorted(layer_image_ids or {}):
        digest.update(f"layer {name} {layer_image_ids[name]}\n".encode())
    for key in sorted(buildargs):
        digest.update(f"arg {key}={buildargs[key]}\n".encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        executable = os.access(path, os.X_OK)
        digest.update(f"file {path.relative_to(context).as_posix()} {int(executable)} ".encode())
        digest.update(_file_digest(path).encode() + b"\n")
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _link_or_copy(source: Path, target: Path) -> None:
    """The wheel is ~190 MB: hard-link it when the file systems allow."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
