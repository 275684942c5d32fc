"""The first run: `make run` (portal_bootstrap) asks for a build of every shipped image; a
shipped image missing from the registry is built in the background by the real worker, and the
App Store shows it building, then ready, updating itself. A second run rebuilds nothing.
Real Docker, registry, Celery worker and Chromium."""

import shutil
import uuid

import pytest
import yaml
from playwright.sync_api import expect

from catalog.models import CatalogItem, ImageBuild
from catalog.selectors import image_build_step
from catalog.services.build_context import images_root
from catalog.services.builds import image_builds_shipped_request
from tests.browser.conftest import PASSWORD, world  # noqa: F401 - fixture
from tests.browser.fixtures import login, screenshot
from tests.catalog.conftest import image_remove
from tests.catalog.factories import manifest
from tests.catalog.services.test_builds import wait_for_build

pytestmark = pytest.mark.django_db(transaction=True)

DOCKERFILE = """\
ARG BASE_IMAGE=portal/base:bookworm
FROM ${BASE_IMAGE}
COPY hello.txt /hello.txt
RUN cat /hello.txt
"""


@pytest.fixture
def shipped(docker_client):
    """A shipped image of this test: a folder of catalog/images (removed afterwards, with its
    image from the registry and the engine) whose image is in no registry yet."""
    slug = f"pytest-first-run-{uuid.uuid4().hex[:8]}"
    folder = images_root() / slug
    folder.mkdir()
    try:
        (folder / "Dockerfile").write_text(DOCKERFILE)
        (folder / "hello.txt").write_text(f"hello from {slug}\n")
        (folder / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
        (folder / "manifest.yaml").write_text(
            yaml.safe_dump(manifest(slug=slug, name="First run app", version="1.0.0"))
        )
        yield slug
    finally:
        shutil.rmtree(folder)
        image_remove(docker_client, slug=slug, version="1.0.0")


def test_a_missing_shipped_image_is_built_in_the_background_and_the_app_store_follows(
    world,  # noqa: F811 - the fixture imported above
    new_page,
    seeded_flavors,
    celery_worker_process,
    shipped,
    registry,
):
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    # The worker takes nothing until the page has shown the build waiting: no race with it.
    celery_worker_process.consume(False)
    try:
        [build] = image_builds_shipped_request(slugs=[shipped])
        page.goto("/catalog/")
        waiting = page.locator(f'[data-app-image="{shipped}"]')
        expect(waiting).to_have_attribute("data-state", "building")
        expect(waiting).to_contain_text("waiting for its turn")
        expect(page.get_by_role("heading", name="First run app")).to_be_visible()
        expect(waiting.get_by_role("link", name="build log")).to_have_attribute(
            "href", f"/catalog/builds/{build.pk}/"
        )
        screenshot(page, "app-store-first-run-building")
        page.evaluate("window.sameDocument = true")
    finally:
        celery_worker_process.consume(True)

    card = page.locator(f'article[aria-labelledby="app-{shipped}"]')
    expect(card.locator("[data-app-image]")).to_have_attribute("data-state", "ready", timeout=300_000)
    expect(card.get_by_role("link", name="Launch First run app")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True  # htmx updated it in place
    screenshot(page, "app-store-first-run-ready")
    build.refresh_from_db()
    assert build.status == ImageBuild.Status.SUCCEEDED, build.explanation
    # The engine's own lines, the step lines the App Store reads its progress from included.
    assert image_build_step(log=build.log) is not None
    assert ": RUN cat /hello.txt" in build.log and f"hello from {shipped}" in build.log
    assert build.log.splitlines()[-1].startswith(f"built {registry.address}/{shipped}:1.0.0")
    assert registry.has_image(slug=shipped, version="1.0.0")
    assert CatalogItem.objects.get(slug=shipped).version == "1.0.0"

    # A second `make run`: the image is found up to date, nothing is built.
    [again] = image_builds_shipped_request(slugs=[shipped])
    again = wait_for_build(again.pk, seconds=120)
    assert again.status == ImageBuild.Status.SUCCEEDED
    assert again.log.startswith(f"up to date {registry.address}/{shipped}:1.0.0")
    page.goto("/catalog/")
    expect(page.locator(f'[data-app-image="{shipped}"]')).to_have_attribute("data-state", "ready")
