"""Every state an image build can be in, with its one-line meaning, and its transition table:
which action is allowed from which state, what it goes through, where it ends. The build
service, the reconciler (which resumes builds whose message was lost) and the pages read these."""

from django.db import models

from common.async_work import Transition


class ImageBuildStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Building and pushing the image"
    SUCCEEDED = "succeeded", "Pushed to the registry and added to the catalog"
    FAILED = "failed", "Stopped; the explanation says why"


B = ImageBuildStatus

IMAGE_BUILD_TRANSITIONS: dict[str, Transition] = {
    # Running again is allowed: a worker killed mid-build leaves it running, and a rebuild finds
    # its image up to date by the context hash.
    "run": Transition(frozenset({B.PENDING, B.RUNNING}), B.RUNNING, B.SUCCEEDED, B.FAILED),
}
IMAGE_BUILD_FINAL = frozenset({B.SUCCEEDED, B.FAILED})
IMAGE_BUILD_ACTIVE = frozenset(set(B) - IMAGE_BUILD_FINAL)


class AppImageState(models.TextChoices):
    """What the App Store shows of a shipped app's image (catalog.selectors.app_image_state)."""

    BUILDING = "building", "Its image is being built; it can be launched once it is ready"
    READY = "ready", "Its image is in the registry; it can be launched"
    FAILED = "failed", "Its image could not be built; the build's log says why"


class PlatformImageState(models.TextChoices):
    """Where an image the platform runs, not a catalog item (catalog.services.platform_images),
    stands when an engine could not start it."""

    READY = "ready", "In the registry: the engine's own error is the reason"
    BUILDING = "building", "Not in the registry yet and a worker builds it now: what needs it waits"
    MISSING = "missing", "Not in the registry and nobody builds it: it must be built first"
