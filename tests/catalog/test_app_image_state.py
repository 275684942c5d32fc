"""The state the App Store shows of a shipped app, from its latest build and its catalog item."""

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import ImageBuild
from catalog.selectors import app_image_state, image_build_step
from catalog.states import AppImageState, ImageBuildStatus

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STEPPING = "Step 1/6 : ARG BASE_IMAGE\n ---> abc\nStep 3/6 : RUN apt-get update\nGet:1 http://deb.debian.org"


def build(status: ImageBuildStatus, *, log: str = "", finished: datetime | None = None) -> ImageBuild:
    return ImageBuild(slug="app", version="1", manifest={}, status=status, log=log, finished=finished)


@pytest.mark.parametrize(
    ("latest", "item_updated", "shown"),
    [
        # Not in the catalog yet: building from the moment it is requested until it succeeds.
        (build(ImageBuildStatus.PENDING), None, AppImageState.BUILDING),
        (build(ImageBuildStatus.RUNNING), None, AppImageState.BUILDING),
        (build(ImageBuildStatus.RUNNING, log=STEPPING), None, AppImageState.BUILDING),
        (build(ImageBuildStatus.SUCCEEDED, finished=T0), T0, AppImageState.READY),
        (build(ImageBuildStatus.FAILED, finished=T0), None, AppImageState.FAILED),
        # In the catalog: ready while the registry is only checked (a second `make run`) ...
        (build(ImageBuildStatus.PENDING), T0, AppImageState.READY),
        (build(ImageBuildStatus.RUNNING), T0, AppImageState.READY),
        # ... building once the engine really builds (a changed image).
        (build(ImageBuildStatus.RUNNING, log=STEPPING), T0, AppImageState.BUILDING),
        (build(ImageBuildStatus.FAILED, finished=T0), T0 - timedelta(hours=1), AppImageState.FAILED),
        # Fixed since by `manage.py catalog_build` by hand: its item is newer than the failure.
        (build(ImageBuildStatus.FAILED, finished=T0), T0 + timedelta(minutes=5), AppImageState.READY),
        # An app added by hand, never built here.
        (None, T0, AppImageState.READY),
    ],
)
def test_the_state_shown(latest, item_updated, shown):
    assert app_image_state(build=latest, item_updated=item_updated) == shown


def test_the_step_is_the_latest_step_line_of_the_log():
    assert image_build_step(log=STEPPING) == (3, 6)
    assert image_build_step(log="checking the registry") is None
    assert image_build_step(log="") is None
