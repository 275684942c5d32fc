"""The shared layers catalog images are built on (catalog/layers/<name>/): built on the local
engine before any image that uses them, each once, and tagged `portal/layer-<name>:<hash12>`.

A layer is no catalog item: it is never pushed on its own (an image built on it carries its
files to the registry) and never shown in the App Store. Like an image, it is rebuilt only when
its context hash changes: its files, the base image, or a layer it is itself built on.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from django.conf import settings

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.services.build_context import (
    CONTEXT_HASH_LABEL,
    build_context_assemble,
    build_context_hash,
    layer_build_arg,
    layers_root,
    layers_used,
)

LAYER_REPOSITORY = "portal/layer-{name}"


class LayerPublish:
    """What `layers_publish` did with a layer."""

    UP_TO_DATE = "up to date"
    BUILT = "built"


@dataclass(frozen=True)
class LayerResult:
    name: str
    image: str  # portal/layer-<name>:<hash12>, the value of the layer's build argument
    image_id: str
    action: str  # one of LayerPublish's values
    seconds: float


def layer_dirs() -> dict[str, Path]:
    """The folders of catalog/layers that hold a Dockerfile, by name."""
    root = layers_root()
    if not root.is_dir():
        return {}
    return {path.name: path for path in sorted(root.iterdir()) if (path / "Dockerfile").is_file()}


def layers_for(*, dockerfile: str) -> list[str]:
    """The layers a Dockerfile builds on (it declares their build arguments)."""
    return layers_used(dockerfile=dockerfile, layers=list(layer_dirs()))


def layers_publish(
    *,
    builder: ImageBuilder,
    names: list[str] | None = None,
    on_log: Callable[[str], None] | None = None,
) -> dict[str, LayerResult]:
    """Make sure the named layers (default: all) and the layers they are built on are on the
    engine, building those whose context changed, each once. Returns every layer it ensured, by
    name, in build order. Raises ManifestError for an unknown layer or a cycle, ImageBuildFailed
    when a build fails."""
    folders = layer_dirs()
    unknown = sorted(set(names or ()) - set(folders))
    if unknown:
        raise ManifestError([f"layers: no folder in {layers_root()} for: {', '.join(unknown)}"])
    done: dict[str, LayerResult] = {}
    for name in names if names is not None else folders:
        _layer_publish(name=name, folders=folders, builder=builder, on_log=on_log, done=done, visiting=())
    return done


def _layer_publish(
    *,
    name: str,
    folders: dict[str, Path],
    builder: ImageBuilder,
    on_log: Callable[[str], None] | None,
    done: dict[str, LayerResult],
    visiting: tuple[str, ...],
) -> LayerResult:
    if name in done:
        return done[name]
    if name in visiting:
        raise ManifestError([f"layers: {' -> '.join((*visiting, name))} is a cycle"])
    started = time.monotonic()
    source = folders[name]
    parents = [
        _layer_publish(
            name=parent,
            folders=folders,
            builder=builder,
            on_log=on_log,
            done=done,
            visiting=(*visiting, name),
        )
        for parent in layers_used(dockerfile=(source / "Dockerfile").read_text(), layers=list(folders))
        if parent != name
    ]
    base_image_id = builder.image_id(settings.BASE_IMAGE)
    if base_image_id is None:
        raise ImageBuildFailed(
            f"the base image {settings.BASE_IMAGE} is not on the engine: run deploy/setup.sh"
        )
    buildargs = {"BASE_IMAGE": settings.BASE_IMAGE, **{layer_build_arg(p.name): p.image for p in parents}}
    with TemporaryDirectory(prefix=f"catalog-layer-{name}-") as folder:
        context = Path(folder)
        build_context_assemble(source=source, destination=context)
        context_hash = build_context_hash(
            context=context,
            base_image_id=base_image_id,
            buildargs=buildargs,
            layer_image_ids={p.name: p.image_id for p in parents},
        )
        image = f"{LAYER_REPOSITORY.format(name=name)}:{context_hash[:12]}"
        if (builder.image_labels(image) or {}).get(CONTEXT_HASH_LABEL) == context_hash:
            action = LayerPublish.UP_TO_DATE
            image_id = builder.image_id(image)
        else:
            image_id = builder.build(
                context=context,
                tag=image,
                labels={CONTEXT_HASH_LABEL: context_hash},
                buildargs=buildargs,
                on_log=on_log,
            )
            action = LayerPublish.BUILT
    done[name] = LayerResult(
        name=name, image=image, image_id=image_id, action=action, seconds=time.monotonic() - started
    )
    return done[name]
