"""Reads of the catalog, for the UI, the API and provisioning."""

import re
from dataclasses import dataclass
from datetime import datetime

from catalog.models import CatalogItem, Flavor, ImageBuild
from catalog.querysets import CatalogItemQuerySet
from catalog.states import IMAGE_BUILD_ACTIVE, AppImageState, ImageBuildStatus

#: The classic builder's step line: "Step 3/12 : RUN pip install ...".
STEP_LINE = re.compile(r"^Step (\d+)/(\d+) :")


def catalog_item_list_launchable() -> CatalogItemQuerySet:
    """Items a new sandbox may be created from (enabled ones)."""
    return CatalogItem.objects.launchable().select_related("default_flavor")


def catalog_item_list(*, user) -> CatalogItemQuerySet:
    """What `user` browses: enabled items for members, every item for site admins."""
    return CatalogItem.objects.visible_to(user).select_related("default_flavor")


def flavor_list():
    return Flavor.objects.all()


def image_build_list(*, user=None):
    """Every build, or those `user` may see (ImageBuildQuerySet.visible_to)."""
    builds = ImageBuild.objects.select_related("requested_by", "catalog_item")
    return builds if user is None else builds.visible_to(user)


def image_build_step(*, log: str) -> tuple[int, int] | None:
    """The step (n, of m) a build's log has reached, or None before its first step."""
    for line in reversed(log.splitlines()):
        match = STEP_LINE.match(line)
        if match:
            return int(match[1]), int(match[2])
    return None


def app_image_state(*, build: ImageBuild | None, item_updated: datetime | None) -> AppImageState:
    """What the App Store shows of a shipped app, from its latest shipped build and when its
    catalog item (None: not in the catalog yet) was last written. An app already in the catalog
    stays ready while its build only checks that the registry is up to date (most runs of `make
    run`); it shows building once the engine really builds (a step appears in the log)."""
    if build is None:
        return AppImageState.READY
    if build.status == ImageBuildStatus.FAILED:
        # `manage.py catalog_build` by hand may have fixed it since: the item is newer.
        fixed = item_updated is not None and build.finished is not None and item_updated > build.finished
        return AppImageState.READY if fixed else AppImageState.FAILED
    if build.status == ImageBuildStatus.SUCCEEDED:
        return AppImageState.READY
    if item_updated is None or image_build_step(log=build.log) is not None:
        return AppImageState.BUILDING
    return AppImageState.READY


@dataclass(frozen=True)
class AppImage:
    """A shipped app's image as the App Store shows it, with its latest shipped build."""

    slug: str
    state: AppImageState
    build: ImageBuild
    step: tuple[int, int] | None  # (n, of m) while the engine builds

    @property
    def percent(self) -> int:
        return round(100 * (self.step[0] - 1) / self.step[1]) if self.step else 0

    @property
    def building(self) -> bool:
        return self.state == AppImageState.BUILDING

    @property
    def failed(self) -> bool:
        return self.state == AppImageState.FAILED

    @property
    def waiting(self) -> bool:
        """Its build waits for the one before it (shipped builds run one at a time)."""
        return self.build.status == ImageBuildStatus.PENDING


@dataclass(frozen=True)
class AppStore:
    """The App Store's page: its items, each with the image state of a shipped app (None for an
    app added by hand), the shipped apps not in the catalog yet, and whether anything is still
    being built (the page then refreshes itself)."""

    cards: list[tuple[CatalogItem, AppImage | None]]
    arriving: list[AppImage]
    building: bool


def app_store(*, items: list[CatalogItem]) -> AppStore:
    latest = {
        build.slug: build
        for build in ImageBuild.objects.shipped().order_by("slug", "-created").distinct("slug")
    }
    updated = dict(CatalogItem.objects.filter(slug__in=latest).values_list("slug", "updated"))
    images = {
        slug: AppImage(
            slug=slug,
            state=app_image_state(build=build, item_updated=updated.get(slug)),
            build=build,
            step=image_build_step(log=build.log),
        )
        for slug, build in latest.items()
    }
    arriving = [image for slug, image in sorted(images.items()) if slug not in updated]
    cards = [(item, images.get(item.slug)) for item in items]
    shown = [image for _, image in cards if image] + arriving
    return AppStore(
        cards=cards,
        arriving=arriving,
        building=any(image.build.status in IMAGE_BUILD_ACTIVE for image in shown),
    )
