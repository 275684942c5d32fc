"""The build context of a catalog image: its folder plus what every build needs from the host.

Images are built without a public registry, so the context carries the host's CA bundle (TLS to
the package mirrors), the shared files of catalog/images/_common, and, for images that install
PyTorch, the CPU wheel from $PIP_FIND_LINKS.
"""

import hashlib
import os
import re
import shutil
from pathlib import Path

from catalog.manifest import ManifestError

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_BUNDLE_NAME = "ca-certificates.crt"
COMMON_DIR_NAME = "_common"
WHEEL_PATTERN = "torch-*.whl"
# The rule for "this image needs the torch wheel": its Dockerfile COPYs a torch-* file.
NEEDS_WHEEL_RE = re.compile(r"^\s*COPY\s.*\btorch-", re.IGNORECASE | re.MULTILINE)
HASH_CHUNK = 1 << 20


def images_root() -> Path:
    return Path(__file__).resolve().parent.parent / "images"


def wheels_dir() -> Path:
    return Path(os.environ.get("PIP_FIND_LINKS", "/opt/wheels"))


def build_context_assemble(*, source: Path, destination: Path) -> None:
    """Fill the empty folder `destination` with `source`, the _common files, the CA bundle and,
    when the Dockerfile asks for it, the torch wheel (under its own file name)."""
    dockerfile = source / "Dockerfile"
    if not dockerfile.is_file():
        raise ManifestError([f"Dockerfile: missing in {source}"])
    common = images_root() / COMMON_DIR_NAME
    if common.is_dir():
        shutil.copytree(common, destination, dirs_exist_ok=True)
    # The image's own files win over a _common file of the same name.
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


def build_context_hash(*, context: Path, base_image_id: str, buildargs: dict[str, str]) -> str:
    """A digest of everything the build reads: each file's path, executable bit and content,
    the base image and the build arguments. Equal digests build equal images."""
    digest = hashlib.sha256()
    digest.update(f"base {base_image_id}\n".encode())
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
