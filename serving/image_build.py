"""The model server image: built from serving/image through the catalog's builder (the same
build context: the folder and the host's CA bundle, FROM the local base image) and pushed to the
registry, where every host pulls it. Not a catalog item: nobody launches it as a sandbox."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from catalog.imagebuilder import ImageBuilder
from catalog.registry import RegistryClient
from catalog.services.images import ImagePublishResult, image_publish

IMAGE_DIR = Path(__file__).resolve().parent / "image"
#: Bumped when the image's contract with the portal changes (ports, start script, variables,
#: metrics). 2: the portal runtime's input and training summaries on the metrics port.
IMAGE_VERSION = "2"
IMAGE_SLUG = "model-server"


def model_server_image() -> str:
    """The reference replicas run."""
    return f"{settings.IMAGE_REGISTRY}/{IMAGE_SLUG}:{IMAGE_VERSION}"


def model_server_image_publish(*, on_log: Callable[[str], None] | None = None) -> ImagePublishResult:
    """Build and push the image unless the registry already has this exact build."""
    return image_publish(
        source=IMAGE_DIR,
        slug=IMAGE_SLUG,
        version=IMAGE_VERSION,
        builder=ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL),
        registry=RegistryClient(address=settings.IMAGE_REGISTRY),
        on_log=on_log,
    )
