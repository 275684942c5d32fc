"""Build a catalog image, unless the registry already has that exact build, and push it."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from django.conf import settings

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import ManifestError, manifest_parse, manifest_validate
from catalog.models import CatalogItem, Flavor
from catalog.registry import RegistryClient
from catalog.services.build_context import (
    CONTEXT_HASH_LABEL,
    build_context_assemble,
    build_context_hash,
    images_root,
    layer_build_arg,
)
from catalog.services.catalog_items import catalog_item_sync_manifest
from catalog.services.layers import layers_for, layers_publish

__all__ = ["CONTEXT_HASH_LABEL", "ImagePublish", "image_build", "image_dirs", "image_publish"]


class ImagePublish:
    """What `image_publish` did with an image."""

    UP_TO_DATE = "up to date"
    PUSHED = "pushed"
    BUILT = "built"


@dataclass(frozen=True)
class ImageBuildResult:
    item: CatalogItem
    publish: "ImagePublishResult"


@dataclass(frozen=True)
class ImagePublishResult:
    image: str
    action: str  # one of ImagePublish's values
    context_hash: str
    seconds: float


def image_publish(
    *,
    source: Path,
    slug: str,
    version: str,
    builder: ImageBuilder,
    registry: RegistryClient,
    on_log: Callable[[str], None] | None = None,
) -> ImagePublishResult:
    """Make `<registry>/<slug>:<version>` the image that `source` (a folder with a Dockerfile)
    builds. The layers its Dockerfile declares (`ARG RUNTIME_IMAGE`, `ARG PYTHON_ML_IMAGE`) are
    made sure of first and passed as those build arguments. Skips the build when an image
    labelled with the same context hash is already in the registry (nothing to do) or on the
    engine (push only)."""
    started = time.monotonic()
    image = f"{registry.address}/{slug}:{version}"
    base_image_id = builder.image_id(settings.BASE_IMAGE)
    if base_image_id is None:
        raise ImageBuildFailed(
            f"the base image {settings.BASE_IMAGE} is not on the engine: run deploy/setup.sh"
        )
    dockerfile = source / "Dockerfile"
    used = layers_for(dockerfile=dockerfile.read_text()) if dockerfile.is_file() else []
    layers = layers_publish(builder=builder, names=used, on_log=on_log) if used else {}
    buildargs = {
        "BASE_IMAGE": settings.BASE_IMAGE,
        **{layer_build_arg(name): layers[name].image for name in used},
    }
    with TemporaryDirectory(prefix=f"catalog-{slug}-") as folder:
        context = Path(folder)
        build_context_assemble(source=source, destination=context)
        context_hash = build_context_hash(
            context=context,
            base_image_id=base_image_id,
            buildargs=buildargs,
            layer_image_ids={name: layers[name].image_id for name in used},
        )
        if (registry.image_labels(slug=slug, version=version) or {}).get(CONTEXT_HASH_LABEL) == context_hash:
            action = ImagePublish.UP_TO_DATE
        elif (builder.image_labels(image) or {}).get(CONTEXT_HASH_LABEL) == context_hash:
            builder.push(ref=image)
            action = ImagePublish.PUSHED
        else:
            builder.build(
                context=context,
                tag=image,
                labels={CONTEXT_HASH_LABEL: context_hash},
                buildargs=buildargs,
                on_log=on_log,
            )
            builder.push(ref=image)
            action = ImagePublish.BUILT
    return ImagePublishResult(
        image=image, action=action, context_hash=context_hash, seconds=time.monotonic() - started
    )


def image_build(
    *,
    image_dir: Path,
    builder: ImageBuilder,
    registry: RegistryClient,
    on_log: Callable[[str], None] | None = None,
) -> ImageBuildResult:
    """Validate the manifest of one folder of catalog/images, publish its image and sync the
    manifest into the catalog. Raises ManifestError before anything is built."""
    manifest_file = image_dir / "manifest.yaml"
    manifest = manifest_validate(
        manifest_parse(manifest_file.read_text()),
        flavors=set(Flavor.objects.values_list("name", flat=True)),
    )
    errors = []
    if manifest.slug != image_dir.name:
        errors.append(f"slug: {manifest.slug!r} must be the folder's name {image_dir.name!r}")
    icon = ""
    if manifest.icon:
        icon_file = image_dir / manifest.icon
        if icon_file.is_file():
            icon = icon_file.read_text()
        else:
            errors.append(f"icon: file {manifest.icon!r} not found beside the manifest")
    if errors:
        raise ManifestError(errors)
    publish = image_publish(
        source=image_dir,
        slug=manifest.slug,
        version=manifest.version,
        builder=builder,
        registry=registry,
        on_log=on_log,
    )
    return ImageBuildResult(item=catalog_item_sync_manifest(manifest=manifest, icon=icon), publish=publish)


def image_dirs(*, slugs: list[str] | None = None) -> list[Path]:
    """The folders of catalog/images that hold an image (a manifest.yaml), in name order;
    only those named in `slugs` when given. Raises ValueError naming unknown slugs."""
    folders = {
        path.name: path
        for path in images_root().iterdir()
        if path.is_dir() and (path / "manifest.yaml").is_file()
    }
    unknown = sorted(set(slugs or ()) - set(folders))
    if unknown:
        raise ValueError(f"no image folder in {images_root()} for: {', '.join(unknown)}")
    return [folders[name] for name in sorted(slugs or folders)]
