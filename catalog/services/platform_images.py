"""Images the platform itself runs that are not catalog items: each tenant's MLflow tracking
server (tracking/image) and the model server of endpoints (serving/image). The apps that run
them register them here when they start (their AppConfig.ready), as tenant services register
with provisioning.extensions, so that the catalog never imports them.

When they are built: in the first-run chain, not on first need. `make run` (portal_bootstrap)
asks for them with the shipped catalog images, and the worker of the `long` queue publishes
each one (image_publish: about a second when the registry has this exact build, by its context
hash; otherwise a build and a push). Chosen because
- the image is there before anyone needs it: a tenant admin's first tracking switch or first
  deploy waits seconds, not the minutes of MLflow's and MLServer's pip installs;
- a changed image folder is rebuilt by the next `make run`, as the catalog's are; a converge
  that only asked whether the tag exists would keep running the old build, and one that hashed
  the build context before every start would pay a second per replica;
- the converges stay what they are. They ask here only when an engine could not start their
  image (so a start costs nothing more): while its build runs they wait and say so, and with no
  build under way (the first `make run`'s failed, or never ran) they fail saying how to build it.
"""

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.text import capfirst

from catalog.imagebuilder import ImageBuilder
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.services.images import ImagePublishResult, image_publish
from catalog.states import PlatformImageState
from common.async_work import enqueue_after_commit
from common.worker_locks import worker_lock, worker_lock_held

log = logging.getLogger(__name__)

#: Advisory lock namespace (common.worker_locks) of platform image builds, one worker per image.
PLATFORM_IMAGE_LOCK = 72_101
#: How often a build by hand looks whether the worker that builds the same image is done.
WAIT_POLL_S = 2.0


@dataclass(frozen=True)
class PlatformImage:
    slug: str  # its repository in the registry
    version: str
    source: Path  # a folder with a Dockerfile, built as the catalog's images are
    title: str  # what it is, for people: "the model server's image"
    command: str  # the manage.py command that builds it by hand

    @property
    def reference(self) -> str:
        return f"{settings.IMAGE_REGISTRY}/{self.slug}:{self.version}"


@dataclass(frozen=True)
class PlatformImageCheck:
    state: str  # a PlatformImageState
    explanation: str  # why a start waits or failed, in plain words; empty when READY


_IMAGES: dict[str, Callable[[], PlatformImage]] = {}


def platform_image_register(name: str, describe: Callable[[], PlatformImage]) -> None:
    """`describe` is called whenever the image is wanted: its version may come from settings."""
    _IMAGES[name] = describe


def platform_image_names() -> list[str]:
    return sorted(_IMAGES)


def platform_image(name: str) -> PlatformImage:
    if name not in _IMAGES:
        raise ValueError(f"no platform image {name!r}; known: {', '.join(platform_image_names())}")
    return _IMAGES[name]()


def platform_images_request() -> list[str]:
    """Hand a build of every platform image to the worker of the `long` queue (once the calling
    transaction commits). What `make run` calls (portal_bootstrap), with the shipped images."""
    from catalog.tasks import platform_image_build_task  # the task module imports this one

    names = platform_image_names()
    for name in names:
        enqueue_after_commit(platform_image_build_task, name, what="platform image build")
    return names


def platform_image_build(
    *, name: str, wait: bool = False, on_log: Callable[[str], None] | None = None
) -> ImagePublishResult | None:
    """Build and push the named image unless the registry has this exact build. One worker per
    image at a time: when another one is on it, None at once, or (`wait`, a build by hand) once
    that one is done, with this call's own check, then up to date."""
    image = platform_image(name)
    while True:
        with worker_lock(*platform_image_lock(image)) as alone:
            if alone:
                return image_publish(
                    source=image.source,
                    slug=image.slug,
                    version=image.version,
                    builder=ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL),
                    registry=RegistryClient(address=settings.IMAGE_REGISTRY),
                    on_log=on_log,
                )
        if not wait:
            log.info("%s: another worker is building it", image.reference)
            return None
        time.sleep(WAIT_POLL_S)


def platform_image_check(*, image: PlatformImage) -> PlatformImageCheck:
    """Why an engine could not start `image`, as far as the image goes: it is in the registry
    (READY: the engine's own error stands; also when the registry does not answer, for the
    engine then says so itself), its build runs now (BUILDING), or it is missing (MISSING)."""
    try:
        if RegistryClient(address=settings.IMAGE_REGISTRY).has_image(slug=image.slug, version=image.version):
            return PlatformImageCheck(PlatformImageState.READY, "")
    except RegistryUnavailable:
        return PlatformImageCheck(PlatformImageState.READY, "")
    if worker_lock_held(*platform_image_lock(image)):
        return PlatformImageCheck(
            PlatformImageState.BUILDING,
            f"Waiting for {image.title} ({image.reference}), which is being built, as on a "
            "site's first run (a few minutes); this goes on by itself once it is in the registry.",
        )
    return PlatformImageCheck(
        PlatformImageState.MISSING,
        f"{capfirst(image.title)} ({image.reference}) is not in the registry, and no build of it "
        "is running: `make run` has it built in the background (the output of the `long` queue's "
        f"worker says how that went), or build it by hand with `manage.py {image.command}`.",
    )


def platform_image_lock(image: PlatformImage) -> tuple[int, int]:
    """The advisory lock a build of `image` holds: the namespace and a stable 31-bit number of
    its repository (pg_try_advisory_lock takes two int4)."""
    return PLATFORM_IMAGE_LOCK, zlib.crc32(image.slug.encode()) & 0x7FFF_FFFF
