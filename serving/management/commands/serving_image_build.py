"""Build and push the model server image replicas run: `manage.py serving_image_build`."""

from django.core.management.base import BaseCommand, CommandError

from catalog.imagebuilder import ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryUnavailable
from serving.image_build import model_server_image_publish


class Command(BaseCommand):
    help = "Build the model server image (skipped when unchanged) and push it to the registry."

    def handle(self, *args, verbosity, **options):
        try:
            result = model_server_image_publish(on_log=self.stdout.write if verbosity > 1 else None)
        except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
            raise CommandError(f"model-server: failed: {exc}\n{getattr(exc, 'log', '')}") from exc
        self.stdout.write(f"model-server: {result.action} {result.image} in {result.seconds:.1f}s")
