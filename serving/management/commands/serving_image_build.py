"""Build and push the model server image replicas run: `manage.py serving_image_build`. `make
run` has it built in the background (catalog.services.platform_images); this is the same build,
by hand."""

from django.core.management.base import BaseCommand, CommandError

from catalog.imagebuilder import ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryUnavailable
from catalog.services.platform_images import platform_image_build
from serving.image_build import PLATFORM_IMAGE


class Command(BaseCommand):
    help = "Build the model server image (skipped when unchanged) and push it to the registry."

    def handle(self, *args, verbosity, **options):
        try:
            result = platform_image_build(
                name=PLATFORM_IMAGE, wait=True, on_log=self.stdout.write if verbosity > 1 else None
            )
        except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
            raise CommandError(f"model-server: failed: {exc}\n{getattr(exc, 'log', '')}") from exc
        self.stdout.write(f"model-server: {result.action} {result.image} in {result.seconds:.1f}s")
