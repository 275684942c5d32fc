"""A launch on a full site in the browser: it is accepted as queued, its page shows its place in
the queue, and it turns running by itself, without a reload, when room frees."""

import pytest
from playwright.sync_api import expect

from catalog.models import Flavor
from provisioning.models import Host, Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from tests.browser.conftest import PASSWORD
from tests.browser.fixtures import login, screenshot
from tests.provisioning.conftest import leftovers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_queued_launch_shows_its_position_and_starts_by_itself(
    new_page, world, published, celery_worker_process, local_host, docker_client
):
    published("python-minimal")
    # Room for one `small` sandbox: memory is never overcommitted.
    Host.objects.filter(pk=local_host.pk).update(memory_mib=Flavor.objects.get(name="small").memory_mib)
    first = sandbox_create(
        owner=world.member, tenant=world.tenant, name="first", catalog_item="python-minimal", flavor="small"
    )
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto(f"/sandboxes/{first.pk}/")
    expect(page.locator("#sandbox-status")).to_have_attribute("data-status", "running", timeout=240_000)

    page.goto("/catalog/")
    page.get_by_role("link", name="Launch Python (minimal)").click()
    page.get_by_label("Name").fill("second")
    page.get_by_role("button", name="Launch", exact=True).click()

    page.wait_for_url("**/sandboxes/*/")
    second = Sandbox.objects.get(name="second")
    assert second.status == SandboxStatus.QUEUED
    status = page.locator("#sandbox-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(page.locator("#sandbox-queue")).to_contain_text("Queued: position 1 of 1.")
    expect(page.locator("#sandbox-queue")).to_contain_text("Estimated wait")
    screenshot(page, "sandbox-queued")
    page.evaluate("window.sameDocument = true")

    sandbox_delete(sandbox=first, actor=world.member)

    expect(status).to_have_attribute("data-status", "running", timeout=240_000)
    expect(page.locator("#sandbox-queue")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True
    sandbox_delete(sandbox=Sandbox.objects.get(pk=second.pk), actor=world.member)
    page.reload()  # a running sandbox's page stops polling; deleting, it polls again
    expect(status).to_have_attribute("data-status", "deleted", timeout=120_000)
    for sandbox in (first, second):
        assert leftovers(docker_client, sandbox.pk) == {"containers": [], "networks": [], "volumes": []}
