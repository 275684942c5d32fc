"""Build, push and sync the shipped catalog images: `manage.py catalog_build [slug ...]`.

The shared layers (catalog/layers) are built first, each once; an image whose layer failed is
not tried."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import ManifestError
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.services.images import image_build, image_dirs
from catalog.services.layers import layers_for, layers_publish


class Command(BaseCommand):
    help = "Build the images of catalog/images (unchanged ones are skipped), push them and sync the catalog."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Only these images (default: all)")

    def handle(self, *args, slugs, verbosity, **options):
        try:
            folders = image_dirs(slugs=slugs)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        builder = ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL)
        registry = RegistryClient(address=settings.IMAGE_REGISTRY)
        on_log = self.stdout.write if verbosity > 1 else None
        failed = []
        needed = sorted({name for f in folders for name in layers_for(dockerfile=_dockerfile(f))})
        try:
            layers = layers_publish(builder=builder, names=needed, on_log=on_log)
        except (ManifestError, ImageBuildFailed) as exc:
            self.stderr.write(f"layers: failed: {exc}")
            if getattr(exc, "log", ""):
                self.stderr.write(exc.log)
            raise CommandError("the shared layers failed: no image was built") from exc
        for layer in layers.values():
            self.stdout.write(f"layer {layer.name}: {layer.action} {layer.image} in {layer.seconds:.1f}s")
        for folder in folders:
            try:
                result = image_build(image_dir=folder, builder=builder, registry=registry, on_log=on_log)
            except (ManifestError, ImageBuildFailed, RegistryUnavailable) as exc:
                failed.append(folder.name)
                self.stderr.write(f"{folder.name}: failed: {exc}")
                if getattr(exc, "log", ""):
                    self.stderr.write(exc.log)
                continue
            publish = result.publish
            self.stdout.write(f"{folder.name}: {publish.action} {publish.image} in {publish.seconds:.1f}s")
        if failed:
            raise CommandError(f"{len(failed)} image(s) failed: {', '.join(failed)}")


def _dockerfile(folder) -> str:
    dockerfile = folder / "Dockerfile"
    return dockerfile.read_text() if dockerfile.is_file() else ""
