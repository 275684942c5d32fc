"""The model server image: built from serving/image through the catalog's builder (the same
build context: the folder and the host's CA bundle, FROM the local base image) and pushed to the
registry, where every host pulls it. Not a catalog item (nobody launches it as a sandbox): a
platform image (catalog.services.platform_images), which `make run` has built in the background."""

from pathlib import Path

from catalog.services.platform_images import PlatformImage

IMAGE_DIR = Path(__file__).resolve().parent / "image"
#: Bumped when the image's contract with the portal changes (ports, start script, variables,
#: metrics). 2: the portal runtime's input and training summaries on the metrics port.
IMAGE_VERSION = "2"
IMAGE_SLUG = "model-server"
#: Its name among the platform images.
PLATFORM_IMAGE = "model-server"


def model_server_platform_image() -> PlatformImage:
    return PlatformImage(
        slug=IMAGE_SLUG,
        version=IMAGE_VERSION,
        source=IMAGE_DIR,
        title="the model server's image",
        command="serving_image_build",
    )


def model_server_image() -> str:
    """The reference replicas run."""
    return model_server_platform_image().reference
