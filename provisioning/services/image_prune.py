"""Old versions of catalog images leave the registry and every engine once no sandbox uses them.

An item's versions are the tags of its repository (`<registry>/<slug>`). Only versions older
than the item's current one (what every new or re-made node runs) may go: a newer tag was pushed
ahead of the catalog (a build not synced yet, another checkout's `make run`) and is not ours to
judge. Of the older ones, each that a container of the platform's (running or stopped, on any
host) was made from is kept. The rest is deleted from the registry (its manifest, by digest;
the layers go at the registry's next garbage collection, deploy/registry.sh) and untagged on
every engine, through the driver, which never forces: an engine refuses to remove an image a
container uses, whoever made that container.

What the pass cannot see, it keeps: nothing of an item is deleted from the registry while a
host with nodes of its sandboxes does not answer, nor while one of its sandboxes is being
created, started or resized (its container may be made from an older version right now).
Run after each publish (settings.IMAGE_PUBLISHED_TASKS) and periodically (beat).
"""

import logging
import re
from dataclasses import dataclass, field

from django.conf import settings

from catalog.models import CatalogItem
from catalog.registry import RegistryClient, RegistryUnavailable
from provisioning.drivers import ContainerDriver, DriverError, driver_for_host
from provisioning.models import Host, Sandbox
from provisioning.states import NODE_FINAL, SANDBOX_BUSY, SANDBOX_FINAL, NodeStatus, SandboxStatus

log = logging.getLogger(__name__)


@dataclass
class ImagePruneReport:
    """References, `<registry>/<slug>:<version>`, by what happened to them."""

    registry_deleted: list[str] = field(default_factory=list)
    engine_removed: dict[str, list[str]] = field(default_factory=dict)  # by host name
    in_use: list[str] = field(default_factory=list)
    #: Items whose registry tags were all kept this time, with the reason.
    held: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "registry_deleted": self.registry_deleted,
            "engine_removed": self.engine_removed,
            "in_use": self.in_use,
            "held": self.held,
        }


def images_prune(*, slugs: list[str] | None = None) -> ImagePruneReport:
    """One pass over every catalog item (those named in `slugs` when given)."""
    items = CatalogItem.objects.all()
    if slugs is not None:
        items = items.filter(slug__in=slugs)
    current = dict(items.values_list("slug", "version"))
    report = ImagePruneReport()
    drivers, silent = _listed_hosts()
    in_use = {container.image for containers in drivers.values() for container in containers[1]}
    held = _held(slugs=list(current), silent=silent)
    registry = RegistryClient(address=settings.IMAGE_REGISTRY)
    for slug, version in sorted(current.items()):
        repository = f"{registry.address}/{slug}"
        used = {ref.rpartition(":")[2] for ref in in_use if ref.rpartition(":")[0] == repository}
        report.in_use += sorted(f"{repository}:{tag}" for tag in used if _older(tag, than=version))
        keep = KeepRule(current=version, used=used)
        if slug in held:
            report.held[slug] = held[slug]
        else:
            _registry_prune(registry, slug=slug, keep=keep, report=report)
        for host_name, (driver, _) in drivers.items():
            _engine_prune(driver, host_name=host_name, repository=repository, keep=keep, report=report)
    return report


@dataclass(frozen=True)
class KeepRule:
    """The tags of one item that stay: its current version, any newer one, and those in use."""

    current: str
    used: set[str]

    def __contains__(self, tag: str) -> bool:
        return tag in self.used or not _older(tag, than=self.current)


def _older(version: str, *, than: str) -> bool:
    """Compared number by number, as people read versions: 1.9.0 < 1.10.0 < 2."""
    return _version_key(version) < _version_key(than)


def _version_key(version: str) -> tuple:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version)
    )


def _listed_hosts() -> tuple[dict[str, tuple[ContainerDriver, list]], set[int]]:
    """Each answering host's driver and the platform's containers on it; the ids of the others."""
    listed, silent = {}, set()
    for host in Host.objects.all():
        try:
            driver = driver_for_host(host, timeout=10)
            listed[host.name] = (driver, driver.list_managed())
        except DriverError as exc:  # HostUnreachable included
            log.info("image prune: host %s not listed: %s", host.name, exc)
            silent.add(host.pk)
    return listed, silent


def _held(*, slugs: list[str], silent: set[int]) -> dict[str, str]:
    """Items whose registry tags this pass must not touch, with the reason."""
    held = {}
    live = Sandbox.objects.filter(catalog_item__slug__in=slugs).exclude(status__in=SANDBOX_FINAL)
    unseen = live.filter(nodes__host__in=silent, nodes__status__in=set(NodeStatus) - NODE_FINAL)
    for slug in unseen.values_list("catalog_item__slug", flat=True).distinct():
        held[slug] = "a host with nodes of its sandboxes did not answer"
    changing = live.filter(status__in=SANDBOX_BUSY - {SandboxStatus.QUEUED})
    for slug in changing.values_list("catalog_item__slug", flat=True).distinct():
        held.setdefault(slug, "one of its sandboxes is being created, started or resized")
    return held


def _registry_prune(registry: RegistryClient, *, slug: str, keep: KeepRule, report: ImagePruneReport) -> None:
    try:
        tags = registry.tags(slug=slug)
        # A manifest that a kept tag names too (an unchanged rebuild under a new version) stays:
        # deleting it by digest would take the kept tag with it.
        kept = {registry.digest(slug=slug, version=tag) for tag in tags if tag in keep}
        for tag in tags:
            if tag in keep:
                continue
            digest = registry.digest(slug=slug, version=tag)
            if digest and digest not in kept and registry.delete(slug=slug, digest=digest):
                report.registry_deleted.append(f"{registry.address}/{slug}:{tag}")
    except RegistryUnavailable as exc:
        report.held[slug] = str(exc)


def _engine_prune(
    driver: ContainerDriver, *, host_name: str, repository: str, keep: KeepRule, report: ImagePruneReport
) -> None:
    try:
        for tag in driver.image_tags(repository=repository):
            ref = f"{repository}:{tag}"
            if tag in keep:
                continue
            if driver.remove_image(ref=ref):
                report.engine_removed.setdefault(host_name, []).append(ref)
            else:
                report.in_use.append(ref)
    except DriverError as exc:  # HostUnreachable included: the next pass tries again
        log.info("image prune: host %s: %s", host_name, exc)
