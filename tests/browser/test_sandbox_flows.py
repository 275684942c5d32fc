"""A data scientist's sandbox in the browser, on the machine's real Docker engine and a real
Celery worker: launch it from the App Store, watch it become running without reloading the
page, read a node's logs, stop it, delete it."""

import pytest
from playwright.sync_api import expect

from provisioning.models import Sandbox
from tests.browser.conftest import PASSWORD
from tests.browser.fixtures import login, screenshot
from tests.provisioning.conftest import leftovers

pytestmark = pytest.mark.django_db(transaction=True)


def test_launch_watch_it_run_stop_and_delete(
    new_page, world, published, celery_worker_process, local_host, docker_client
):
    published("python-minimal")
    page = new_page()
    login(page, username="grace", password=PASSWORD)

    page.goto("/catalog/")
    expect(page.get_by_role("heading", name="Python (minimal)")).to_be_visible()
    screenshot(page, "app-store")
    page.get_by_role("link", name="Launch Python (minimal)").click()
    page.get_by_label("Name").fill("first")
    expect(page.locator("#quota-check")).to_contain_text("Fits within the quota")
    screenshot(page, "launch-form")
    page.get_by_role("button", name="Launch", exact=True).click()

    page.wait_for_url("**/sandboxes/*/")
    sandbox = Sandbox.objects.get(name="first")
    # A mark on this document: a reload or a navigation would lose it.
    page.evaluate("window.sameDocument = true")
    status = page.locator("#sandbox-status")
    expect(status).to_have_attribute("data-status", "running", timeout=240_000)
    assert page.evaluate("window.sameDocument") is True
    expect(page.get_by_role("cell", name="head-0")).to_be_visible()
    expect(page.get_by_role("cell", name="local", exact=True)).to_be_visible()
    # python-minimal serves nothing over the web (SSH is for its nodes): no endpoint to open.
    expect(page.get_by_text("No web endpoints now")).to_be_visible()
    page.get_by_role("button", name="Show logs").click()
    expect(page.get_by_label("Logs of head-0")).to_be_visible()
    screenshot(page, "sandbox-running")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Stop")).to_be_in_viewport()
    screenshot(page, "sandbox-running-phone")
    page.set_viewport_size({"width": 1366, "height": 850})

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopping first.")).to_be_visible()
    expect(status).to_have_attribute("data-status", "stopped", timeout=120_000)
    screenshot(page, "sandbox-stopped")

    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete first?")).to_be_visible()
    page.get_by_role("button", name="Delete first").click()
    expect(status).to_have_attribute("data-status", "deleted", timeout=120_000)
    screenshot(page, "sandbox-deleted")
    assert leftovers(docker_client, sandbox.pk) == {"containers": [], "networks": [], "volumes": []}

    page.goto("/sandboxes/")
    expect(page.get_by_text("No sandboxes.")).to_be_visible()
