"""The platform's own images (catalog.services.platform_images): the MLflow tracking server's and
the model server's are registered by their apps, `make run` (portal_bootstrap) hands a build of
each to the `long` queue, and a build publishes a missing image, then finds it up to date. What
needs one asks whether it is there, being built, or missing. Real registry and engine for the
builds (a tiny image of this test)."""

import inspect
import io

import pytest
from django.core.management import call_command

from catalog.services import platform_images
from catalog.services.images import ImagePublish
from catalog.services.platform_images import (
    PlatformImage,
    platform_image,
    platform_image_build,
    platform_image_check,
    platform_image_names,
    platform_images_request,
)
from catalog.states import PlatformImageState
from catalog.tasks import platform_image_build_task
from portal.celery import app
from serving.image_build import model_server_image
from tests.catalog.conftest import another_worker_builds
from tracking.containers import tracking_image

TINY = "pytest-tiny"


@pytest.fixture
def tiny_platform_image(tiny_image, monkeypatch):
    """A platform image of this test, in no registry yet."""
    source, slug, version = tiny_image
    image = PlatformImage(
        slug=slug, version=version, source=source, title="the tiny image", command="tiny_build"
    )
    monkeypatch.setitem(platform_images._IMAGES, TINY, lambda: image)
    return image


def test_tracking_and_serving_register_the_images_they_run():
    assert {"mlflow", "model-server"} <= set(platform_image_names())
    assert platform_image("mlflow").reference == tracking_image()
    assert platform_image("model-server").reference == model_server_image()
    for name in ("mlflow", "model-server"):
        assert (platform_image(name).source / "Dockerfile").is_file()
    with pytest.raises(ValueError, match="no platform image 'nope'"):
        platform_image("nope")


def test_builds_go_to_the_long_queue():
    route = app.amqp.router.route({}, platform_image_build_task.name)
    assert route["queue"].name == "long"


@pytest.mark.django_db
def test_the_first_run_hands_a_build_of_each_platform_image_to_a_worker(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as sent:
        assert platform_images_request() == platform_image_names()
    assert builds_sent(sent) == platform_image_names()

    # `make run`'s set-up asks for them, with the shipped images.
    with django_capture_on_commit_callbacks() as sent:
        call_command("portal_bootstrap", stdout=(output := io.StringIO()))
    assert f"Platform images: {', '.join(platform_image_names())}" in output.getvalue()
    assert builds_sent(sent) == platform_image_names()


def builds_sent(callbacks) -> list[str]:
    """The platform images whose build the captured on-commit callbacks would send
    (common.async_work.enqueue_after_commit's, read from what they close over)."""
    sent = [inspect.getclosurevars(callback).nonlocals for callback in callbacks]
    return sorted(names["object_id"] for names in sent if names.get("task") is platform_image_build_task)


@pytest.mark.django_db(transaction=True)
def test_a_missing_image_is_built_by_its_task_then_found_up_to_date(tiny_platform_image, registry):
    check = platform_image_check(image=tiny_platform_image)
    assert check.state == PlatformImageState.MISSING
    assert tiny_platform_image.reference in check.explanation and "manage.py tiny_build" in check.explanation

    # While another worker builds it, what needs it waits, and a second build does not start.
    with another_worker_builds(tiny_platform_image):
        check = platform_image_check(image=tiny_platform_image)
        assert check.state == PlatformImageState.BUILDING
        assert check.explanation.startswith(f"Waiting for the tiny image ({tiny_platform_image.reference})")
        assert platform_image_build(name=TINY) is None
    assert not registry.has_image(slug=tiny_platform_image.slug, version=tiny_platform_image.version)

    platform_image_build_task(TINY)  # what the worker of the `long` queue runs
    assert registry.has_image(slug=tiny_platform_image.slug, version=tiny_platform_image.version)
    check = platform_image_check(image=tiny_platform_image)
    assert (check.state, check.explanation) == (PlatformImageState.READY, "")
    # The next `make run`: a second, nothing built.
    again = platform_image_build(name=TINY, wait=True)
    assert again.action == ImagePublish.UP_TO_DATE
