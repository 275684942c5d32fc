"""Build and push the tracking servers' image (tracking/image) with the catalog's builder:
`manage.py tracking_image_build`. Unchanged, it is neither built nor pushed again."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.services.images import image_publish

IMAGE_DIR = Path(__file__).resolve().parents[2] / "image"


class Command(BaseCommand):
    help = "Build and push the MLflow tracking server image (skipped when the registry has this build)."

    def handle(self, *args, verbosity, **options):
        try:
            result = image_publish(
                source=IMAGE_DIR,
                slug=settings.TRACKING_IMAGE_SLUG,
                version=settings.TRACKING_IMAGE_VERSION,
                builder=ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL),
                registry=RegistryClient(address=settings.IMAGE_REGISTRY),
                on_log=self.stdout.write if verbosity > 1 else None,
            )
        except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
            raise CommandError(f"{exc}\n{getattr(exc, 'log', '')}") from exc
        self.stdout.write(f"{result.image}: {result.action} in {result.seconds:.1f}s")
