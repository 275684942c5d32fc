"""Image builds that site admins request with an uploaded manifest and Dockerfile.

The request is checked and recorded in one transaction, and a Celery task builds, pushes and
adds the item afterwards: a cold build takes minutes, far longer than a web request may. A build
whose message was lost (the broker was down) is handed to a worker again by the reconciler.
"""

from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import Manifest, ManifestError, manifest_validate
from catalog.models import CatalogItem, Flavor, ImageBuild
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.services.catalog_items import catalog_item_sync_manifest
from catalog.services.images import image_publish
from catalog.states import IMAGE_BUILD_FINAL, IMAGE_BUILD_TRANSITIONS, ImageBuildStatus
from common.async_work import close_unless_final, enqueue_after_commit
from tenants.models import User
from tenants.services.audit import audit_record


@transaction.atomic
def image_build_request(
    *, manifest_text: str, dockerfile: str, icon: str, actor: User, ip: str | None = None
) -> ImageBuild:
    """Record a build of a new catalog item and enqueue it. Raises ManifestError listing every
    mistake; nothing is recorded then."""
    manifest = manifest_validate(manifest_text, flavors=set(Flavor.objects.values_list("name", flat=True)))
    errors = []
    if CatalogItem.objects.filter(slug=manifest.slug).exists():
        errors.append(f"slug: the catalog already has an item {manifest.slug!r}")
    if not dockerfile.strip():
        errors.append("dockerfile: must not be empty")
    if errors:
        raise ManifestError(errors)
    build = ImageBuild.objects.create(
        slug=manifest.slug,
        version=manifest.version,
        manifest=manifest.as_json(),
        dockerfile=dockerfile,
        icon=icon,
        requested_by=actor,
    )
    audit_record(actor=actor, action="catalog.build", target=build, ip=ip, detail={"slug": build.slug})
    _enqueue(build.pk)
    return build


def image_builds_resume() -> list[int]:
    """Hand the builds that no worker took up lately to a worker again (their message was lost,
    the broker being down when they were requested). A build that a worker is on is no longer
    pending; running one twice is safe anyway (see image_build_run)."""
    stale = list(
        ImageBuild.objects.filter(
            status=ImageBuildStatus.PENDING,
            created__lt=timezone.now() - timedelta(seconds=settings.OPERATION_STALE_S),
        ).values_list("pk", flat=True)
    )
    for build_id in stale:
        _enqueue(build_id)
    return stale


def _enqueue(build_id: int) -> None:
    from catalog.tasks import image_build_run_task  # the task module imports this one

    enqueue_after_commit(image_build_run_task, build_id, what="image build")


def image_build_run(*, build_id: int) -> ImageBuild:
    """Build, push and add the item of one ImageBuild. Safe to run twice: a finished build is
    left alone, and a repeated build finds its image up to date by its context hash."""
    build = ImageBuild.objects.get(pk=build_id)
    run = IMAGE_BUILD_TRANSITIONS["run"]
    if build.status not in run.allowed_from:
        return build
    ImageBuild.objects.filter(pk=build.pk, status__in=run.allowed_from).update(status=run.through)
    try:
        with TemporaryDirectory(prefix="catalog-upload-") as folder:
            source = Path(folder)
            (source / "Dockerfile").write_text(build.dockerfile)
            result = image_publish(
                source=source,
                slug=build.slug,
                version=build.version,
                builder=ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL),
                registry=RegistryClient(address=settings.IMAGE_REGISTRY),
            )
    except ImageBuildFailed as exc:
        return _finish(build, status=run.fails, explanation=str(exc), log=exc.log)
    except (ManifestError, RegistryUnavailable) as exc:
        return _finish(build, status=run.fails, explanation=str(exc))
    with transaction.atomic():
        item = catalog_item_sync_manifest(manifest=Manifest.from_json(build.manifest), icon=build.icon)
        return _finish(
            build,
            status=run.ends,
            item=item,
            log=f"{result.action} {result.image} in {result.seconds:.0f}s",
        )


def _finish(
    build: ImageBuild, *, status: str, explanation: str = "", log: str = "", item: CatalogItem | None = None
) -> ImageBuild:
    """The final write, race-safe: of two workers finishing one build, the first one's stands."""
    close_unless_final(
        ImageBuild,
        build.pk,
        final=IMAGE_BUILD_FINAL,
        status=status,
        explanation=explanation,
        log=log,
        catalog_item=item,
        finished=timezone.now(),
    )
    build.refresh_from_db()
    return build
