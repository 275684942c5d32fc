"""Builds of the shipped images as `make run` asks for them: one per folder of catalog/images
that has none under way, a wrong manifest answered by a failed build, and one at a time."""

import shutil
import uuid
from datetime import timedelta

import pytest
import yaml
from django.db import connections
from django.utils import timezone

from catalog.models import ImageBuild
from catalog.services.build_context import images_root
from catalog.services.builds import SHIPPED_BUILDS_LOCK, image_builds_resume, image_builds_shipped_request
from catalog.states import ImageBuildStatus
from tests.catalog.factories import manifest


@pytest.fixture
def folders():
    """make(manifest dict or text): a folder of catalog/images of this test, removed afterwards."""
    made = []

    def make(content) -> str:
        slug = f"pytest-shipped-{uuid.uuid4().hex[:8]}"
        folder = images_root() / slug
        folder.mkdir()
        made.append(folder)
        (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
        text = content if isinstance(content, str) else yaml.safe_dump({**content, "slug": slug, "icon": ""})
        (folder / "manifest.yaml").write_text(text)
        return slug

    yield make
    for folder in made:
        shutil.rmtree(folder)


@pytest.mark.django_db
def test_one_build_per_shipped_image_with_none_under_way(folders, django_capture_on_commit_callbacks):
    good, other = folders(manifest(name="Good")), folders(manifest(name="Other"))
    bad = folders("slug: [unclosed\n")

    with django_capture_on_commit_callbacks() as sent:
        first = image_builds_shipped_request(slugs=[good, other, bad])
    # A second `make run` before the worker got to them asks for nothing new.
    again = image_builds_shipped_request(slugs=[good, other, bad])

    builds = {build.slug: build for build in first}
    assert {slug: build.status for slug, build in builds.items()} == {
        good: ImageBuildStatus.PENDING,
        other: ImageBuildStatus.PENDING,
        bad: ImageBuildStatus.FAILED,
    }
    assert all(build.shipped for build in first)
    assert builds[good].manifest["name"] == "Good" and builds[good].version == "1.0.0"
    assert "manifest.yaml" in builds[bad].explanation and "expected ',' or ']'" in builds[bad].explanation
    # Only the oldest is handed to a worker: it hands on the next when it ends.
    assert len(sent) == 1
    assert [b.slug for b in again] == [bad]  # a failed one is asked for again, the others wait


@pytest.mark.django_db
def test_unknown_slugs_are_refused_and_nothing_is_recorded():
    with pytest.raises(ValueError, match="no-such-image"):
        image_builds_shipped_request(slugs=["no-such-image"])
    assert not ImageBuild.objects.exists()


@pytest.mark.django_db
def test_shipped_builds_are_resumed_one_at_a_time_and_only_when_no_worker_is_on_one(
    django_capture_on_commit_callbacks,
):
    older, newer = (
        ImageBuild.objects.create(slug=slug, version="1", manifest=manifest(slug=slug)) for slug in ("a", "b")
    )
    ImageBuild.objects.filter(pk__in=[older.pk, newer.pk]).update(created=timezone.now() - timedelta(hours=1))
    worker = connections.create_connection("default")  # another worker's session
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(SHIPPED_BUILDS_LOCK))
        with django_capture_on_commit_callbacks() as sent:
            assert image_builds_resume() == []
        assert sent == []
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(SHIPPED_BUILDS_LOCK))
    finally:
        worker.close()

    with django_capture_on_commit_callbacks() as sent:
        assert image_builds_resume() == [older.pk]
    assert len(sent) == 1
