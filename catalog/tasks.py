import logging

from celery import shared_task

from catalog.imagebuilder import ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryUnavailable
from catalog.services.builds import image_build_run
from catalog.services.platform_images import platform_image_build

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def image_build_run_task(build_id: int) -> str:
    return image_build_run(build_id=build_id).status


@shared_task(acks_late=True, ignore_result=True)
def platform_image_build_task(name: str) -> None:
    """A platform image's build (catalog.services.platform_images). A failure ends in the
    worker's log; what needs the image then says it is missing, and how to build it."""
    try:
        result = platform_image_build(name=name)
    except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
        log.error("platform image %s: build failed: %s\n%s", name, exc, getattr(exc, "log", ""))
        return
    if result is not None:
        log.info("platform image %s: %s %s in %.1fs", name, result.action, result.image, result.seconds)
