"""The tracking servers' image: tracking/image, built FROM the local base image by the catalog's
builder and pushed to the registry, where the engines pull it. Not a catalog item: a platform
image (catalog.services.platform_images), which `make run` has built in the background."""

from pathlib import Path

from django.conf import settings

from catalog.services.platform_images import PlatformImage

IMAGE_DIR = Path(__file__).resolve().parent / "image"
#: Its name among the platform images.
PLATFORM_IMAGE = "mlflow"


def tracking_platform_image() -> PlatformImage:
    return PlatformImage(
        slug=settings.TRACKING_IMAGE_SLUG,
        version=settings.TRACKING_IMAGE_VERSION,
        source=IMAGE_DIR,
        title="the MLflow tracking server's image",
        command="tracking_image_build",
    )
