"""Image builds: those site admins request with an uploaded manifest and Dockerfile, and those
of the shipped images (catalog/images), which `make run` requests so that the App Store fills
itself on the first run.

The request is checked and recorded in one transaction, and a Celery task builds, pushes and
adds the item afterwards: a cold build takes minutes, far longer than a web request may. A build
whose message was lost (the broker was down) is handed to a worker again by the reconciler.

Shipped builds run one at a time, oldest first: each one that ends hands the next to a worker.
Most of them find their image up to date (the builder's context hash) in a second; the others
build, and write the engine's last lines to the row as they come, so the App Store shows the
step they are at.
"""

import logging
import time
from collections import deque
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from catalog.imagebuilder import ImageBuilder, ImageBuildFailed
from catalog.manifest import Manifest, ManifestError, manifest_parse, manifest_validate
from catalog.models import CatalogItem, Flavor, ImageBuild
from catalog.registry import RegistryClient, RegistryUnavailable
from catalog.selectors import STEP_LINE
from catalog.services.catalog_items import catalog_item_sync_manifest
from catalog.services.images import ImagePublish, image_build, image_dirs, image_publish
from catalog.states import IMAGE_BUILD_ACTIVE, IMAGE_BUILD_FINAL, IMAGE_BUILD_TRANSITIONS, ImageBuildStatus
from common.async_work import close_unless_final, enqueue_after_commit
from common.worker_locks import worker_lock
from tenants.models import User
from tenants.services.audit import audit_record

log = logging.getLogger(__name__)


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


#: The advisory lock (common.worker_locks) under which shipped builds run, one at a time.
SHIPPED_BUILDS_LOCK = (72_001, 0)
#: Lines of the engine's output a running shipped build keeps in its row, and how often it
#: writes them there (the App Store reads its step from them).
LOG_TAIL_LINES = 40
LOG_WRITE_EVERY_S = 2.0


def image_builds_shipped_request(*, slugs: list[str] | None = None) -> list[ImageBuild]:
    """Record a build of every shipped image (only those named in `slugs` when given) that has
    none waiting or running, and hand the oldest waiting one to a worker. A folder whose manifest
    is wrong gets a failed build saying why. Raises ValueError naming unknown slugs. What `make
    run` calls (portal_bootstrap): an image already in the registry is found up to date by the
    worker within a second, and only a missing or changed one is built."""
    folders = image_dirs(slugs=slugs)
    flavors = set(Flavor.objects.values_list("name", flat=True))
    with transaction.atomic():
        busy = set(
            ImageBuild.objects.shipped()
            .filter(status__in=IMAGE_BUILD_ACTIVE, slug__in=[folder.name for folder in folders])
            .values_list("slug", flat=True)
        )
        recorded = [
            _shipped_build_record(folder, flavors=flavors) for folder in folders if folder.name not in busy
        ]
        _shipped_hand_next()
    return recorded


def _shipped_build_record(folder: Path, *, flavors: set[str]) -> ImageBuild:
    try:
        manifest = manifest_validate(manifest_parse((folder / "manifest.yaml").read_text()), flavors=flavors)
    except ManifestError as exc:
        return ImageBuild.objects.create(
            slug=folder.name,
            version="",
            manifest={"slug": folder.name},
            status=IMAGE_BUILD_TRANSITIONS["run"].fails,
            explanation=f"{folder / 'manifest.yaml'}: {exc}",
            finished=timezone.now(),
        )
    icon_file = folder / manifest.icon if manifest.icon else None
    return ImageBuild.objects.create(
        slug=folder.name,
        version=manifest.version,
        manifest=manifest.as_json(),
        icon=icon_file.read_text() if icon_file and icon_file.is_file() else "",
    )


def _shipped_hand_next() -> None:
    """Hand the oldest shipped build still to do to a worker (after this transaction commits).
    Handing it twice is harmless: the lock lets one worker at a time on shipped builds, and a
    worker that finds its build done hands the next one on."""
    following = (
        ImageBuild.objects.shipped().filter(status__in=IMAGE_BUILD_ACTIVE).order_by("created", "pk").first()
    )
    if following is not None:
        _enqueue(following.pk)


def image_builds_resume() -> list[int]:
    """Hand the builds that no worker took up lately to a worker again (their message was lost,
    the broker being down when they were requested). A build that a worker is on is no longer
    pending; running one twice is safe anyway (see image_build_run). Shipped builds wait their
    turn for long: they are resumed only when no worker is on one (its lock is free), from the
    oldest."""
    stale_before = timezone.now() - timedelta(seconds=settings.OPERATION_STALE_S)
    stale = list(
        ImageBuild.objects.uploaded()
        .filter(status=ImageBuildStatus.PENDING, created__lt=stale_before)
        .values_list("pk", flat=True)
    )
    for build_id in stale:
        _enqueue(build_id)
    shipped = (
        ImageBuild.objects.shipped().filter(status__in=IMAGE_BUILD_ACTIVE).order_by("created", "pk").first()
    )
    if shipped is not None and shipped.created < stale_before:
        with worker_lock(*SHIPPED_BUILDS_LOCK) as nobody_on_it:
            if nobody_on_it:
                _enqueue(shipped.pk)
                stale.append(shipped.pk)
    return stale


def _enqueue(build_id: int) -> None:
    from catalog.tasks import image_build_run_task  # the task module imports this one

    enqueue_after_commit(image_build_run_task, build_id, what="image build")


def image_build_run(*, build_id: int) -> ImageBuild:
    """Build, push and add the item of one ImageBuild. Safe to run twice: a finished build is
    left alone, and a repeated build finds its image up to date by its context hash. A shipped
    build runs only while no other one does (it is handed on when that one ends)."""
    build = ImageBuild.objects.get(pk=build_id)
    if not build.shipped:
        return _uploaded_build_run(build)
    with worker_lock(*SHIPPED_BUILDS_LOCK) as alone:
        if alone:
            build = _shipped_build_run(build)
    if alone:
        with transaction.atomic():
            _shipped_hand_next()
    return build


def _uploaded_build_run(build: ImageBuild) -> ImageBuild:
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
            published=result.action != ImagePublish.UP_TO_DATE,
        )


def _shipped_build_run(build: ImageBuild) -> ImageBuild:
    """Build the folder of catalog/images named by the build's slug with image_build (as
    `manage.py catalog_build` does), writing the engine's last lines to the row as they come."""
    run = IMAGE_BUILD_TRANSITIONS["run"]
    build.refresh_from_db()
    if build.status not in run.allowed_from:
        return build
    ImageBuild.objects.filter(pk=build.pk, status__in=run.allowed_from).update(status=run.through)
    tail = _LogTail(build.pk)
    try:
        [folder] = image_dirs(slugs=[build.slug])
        result = image_build(
            image_dir=folder,
            builder=ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL),
            registry=RegistryClient(address=settings.IMAGE_REGISTRY),
            on_log=tail.add,
        )
    except ValueError as exc:  # the folder went away since the build was requested
        return _finish(build, status=run.fails, explanation=str(exc))
    except ImageBuildFailed as exc:
        return _finish(build, status=run.fails, explanation=str(exc), log=tail.text() or exc.log)
    except (ManifestError, RegistryUnavailable) as exc:
        return _finish(build, status=run.fails, explanation=str(exc), log=tail.text())
    except Exception as exc:
        # Left running, the build would be resumed, and fail, at every reconciler pass, and the
        # shipped builds after it would wait forever: it is closed, and the next one goes on.
        log.exception("shipped build %s of %s failed unexpectedly", build.pk, build.slug)
        return _finish(build, status=run.fails, explanation=f"unexpected error: {exc}", log=tail.text())
    publish = result.publish
    summary = f"{publish.action} {publish.image} in {publish.seconds:.0f}s"
    return _finish(
        build,
        status=run.ends,
        item=result.item,
        log="\n".join(filter(None, [tail.text(), summary])),
        published=publish.action != ImagePublish.UP_TO_DATE,
    )


class _LogTail:
    """The last lines of a running build, written to its row every LOG_WRITE_EVERY_S, with the
    latest step line kept on top when the step's own output has pushed it out of the tail."""

    def __init__(self, build_id: int):
        self.build_id = build_id
        self.lines: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self.step = ""
        self.written_at = 0.0

    def add(self, line: str) -> None:
        self.lines.append(line)
        if STEP_LINE.match(line):
            self.step = line
        if time.monotonic() - self.written_at >= LOG_WRITE_EVERY_S:
            self.written_at = time.monotonic()
            ImageBuild.objects.filter(pk=self.build_id, status__in=IMAGE_BUILD_ACTIVE).update(log=self.text())

    def text(self) -> str:
        lines = list(self.lines)
        if self.step and self.step not in lines:
            lines.insert(0, self.step)
        return "\n".join(lines)


def _finish(
    build: ImageBuild,
    *,
    status: str,
    explanation: str = "",
    log: str = "",
    item: CatalogItem | None = None,
    published: bool = False,
) -> ImageBuild:
    """The final write, race-safe: of two workers finishing one build, the first one's stands.
    An image newly in the registry lets the older versions go (settings.IMAGE_PUBLISHED_TASKS)."""
    closed = close_unless_final(
        ImageBuild,
        build.pk,
        final=IMAGE_BUILD_FINAL,
        status=status,
        explanation=explanation,
        log=log,
        catalog_item=item,
        finished=timezone.now(),
    )
    if closed and published:
        transaction.on_commit(_announce_published)
    build.refresh_from_db()
    return build


def _announce_published() -> None:
    """Send the tasks that follow a publish (the prune of old versions), by name: they belong to
    apps that import the catalog, not the other way round."""
    for name in settings.IMAGE_PUBLISHED_TASKS:
        try:
            current_app.send_task(name)
        except OperationalError as exc:  # the periodic run catches up
            log.warning("broker down, %s not sent after a publish: %s", name, exc)
