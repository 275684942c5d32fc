"""An image build whose message was lost (the broker was down when it was requested) is still
accepted, and the reconciler hands it to a worker like a stalled operation or job."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from kombu.exceptions import OperationalError

from catalog.models import ImageBuild
from catalog.services.builds import image_build_request, image_builds_resume
from catalog.states import ImageBuildStatus
from catalog.tasks import image_build_run_task
from provisioning.services.reconciler import reconcile_all
from tests.catalog.factories import manifest


def _stale(build: ImageBuild) -> None:
    ImageBuild.objects.filter(pk=build.pk).update(created=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db
def test_a_build_requested_while_the_broker_is_down_is_resumed_by_the_reconciler(
    site_admin, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(build_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(image_build_run_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        build = image_build_request(
            manifest_text=yaml.safe_dump(manifest(slug="lost-build")),
            dockerfile="FROM scratch\n",
            icon="",
            actor=site_admin,
        )
    assert ImageBuild.objects.get(pk=build.pk).status == ImageBuildStatus.PENDING

    sent = []
    monkeypatch.setattr(image_build_run_task, "delay", sent.append)
    _stale(build)
    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_all()

    assert report["builds_resumed"] == 1
    assert sent == [build.pk]


@pytest.mark.django_db
def test_only_builds_no_worker_took_up_lately_are_resumed(site_admin, django_capture_on_commit_callbacks):
    def build(slug, status):
        return ImageBuild.objects.create(
            slug=slug, version="1", manifest=manifest(slug=slug), dockerfile="FROM x", status=status
        )

    lost = build("lost", ImageBuildStatus.PENDING)
    fresh = build("fresh", ImageBuildStatus.PENDING)
    for finished in (build("running", ImageBuildStatus.RUNNING), build("done", ImageBuildStatus.SUCCEEDED)):
        _stale(finished)
    _stale(lost)

    with django_capture_on_commit_callbacks() as callbacks:
        resumed = image_builds_resume()

    assert resumed == [lost.pk] and len(callbacks) == 1
    assert fresh.pk not in resumed
