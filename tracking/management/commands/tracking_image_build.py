"""Build and push the tracking servers' image (tracking/image) with the catalog's builder:
`manage.py tracking_image_build`. Unchanged, it is neither built nor pushed again. `make run`
has it built in the background (catalog.services.platform_images); this is the same build, by
hand."""

from django.core.management.base import BaseCommand, CommandError

from catalog.imagebuilder import ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryUnavailable
from catalog.services.platform_images import platform_image_build
from tracking.image_build import PLATFORM_IMAGE


class Command(BaseCommand):
    help = "Build and push the MLflow tracking server image (skipped when the registry has this build)."

    def handle(self, *args, verbosity, **options):
        try:
            result = platform_image_build(
                name=PLATFORM_IMAGE, wait=True, on_log=self.stdout.write if verbosity > 1 else None
            )
        except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
            raise CommandError(f"{exc}\n{getattr(exc, 'log', '')}") from exc
        self.stdout.write(f"{result.image}: {result.action} in {result.seconds:.1f}s")
