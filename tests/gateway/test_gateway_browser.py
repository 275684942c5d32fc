"""The gateway for real, in headless Chromium: nginx in front of the live portal, a
jupyter-pytorch sandbox on the local engine. The owner opens Jupyter (the server the node already
runs) and computes in a kernel, across a restart of the gateway; a colleague without rights gets
403, another tenant 404, a logged-out browser the login page."""

import re
import time
from decimal import Decimal

import pytest

from provisioning.models import Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from tenants.models import Membership, Tenant, User
from tests.browser.fixtures import login, screenshot
from tests.gateway.nginx import Gateway
from tests.notebooks.browser import new_notebook, run_cell, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "gateway test"  # noqa: S105 - test users only
SECRET = "secret-of-the-gateway-test"  # noqa: S105 - test value
LAB_TIMEOUT_MS = 180_000


@pytest.fixture
def gateway(live_server, tmp_path, settings):
    port = int(live_server.url.rsplit(":", 1)[1])
    running = Gateway(portal_port=port, secret=SECRET, run_dir=tmp_path)
    settings.GATEWAY_SECRET = SECRET
    settings.GATEWAY_URL = running.url
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def people(transactional_db, local_host):
    lab = Tenant.objects.create(
        slug="lab", name="Lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100
    )
    other = Tenant.objects.create(slug="other", name="Other")
    users = {
        name: User.objects.create_user(username=name, password=PASSWORD)
        for name in ("grace", "bob", "mallory")
    }
    Membership.objects.create(user=users["grace"], tenant=lab)
    Membership.objects.create(user=users["bob"], tenant=lab)
    Membership.objects.create(user=users["mallory"], tenant=other)
    return lab, users


def _status(pk: int) -> str:
    return Sandbox.objects.values_list("status", flat=True).get(pk=pk)


@pytest.fixture
def jupyter_sandbox(people, published, celery_worker_process, docker_client):
    lab, users = people
    published("jupyter-pytorch")
    sandbox = sandbox_create(
        owner=users["grace"], tenant=lab, name="nb", catalog_item="jupyter-pytorch", flavor="medium"
    )
    try:
        wait_for(
            lambda: _status(sandbox.pk) in (SandboxStatus.RUNNING, SandboxStatus.ERROR),
            what="the sandbox to run",
        )
        sandbox.refresh_from_db()
        assert sandbox.status == SandboxStatus.RUNNING, sandbox.explanation
        yield sandbox
    finally:
        wait_for(lambda: _status(sandbox.pk) not in ("pending", "provisioning", "stopping", "starting"))
        if _status(sandbox.pk) != SandboxStatus.DELETED:
            sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=users["grace"])
            wait_for(lambda: _status(sandbox.pk) == SandboxStatus.DELETED, what="the sandbox's deletion")


def test_open_jupyter_through_the_gateway(jupyter_sandbox, gateway, new_page):
    head = jupyter_sandbox.nodes.get(role="head")
    lab_url = f"{gateway.url}/gateway/{head.gateway_key}/jupyter/lab"

    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto(f"/sandboxes/{jupyter_sandbox.pk}/")
    assert head.ip not in page.locator("#endpoints-title + *").inner_text()
    clicked = time.monotonic()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open Jupyter", exact=True).click()
    lab = opened.value
    lab.wait_for_url(re.compile(rf"^{re.escape(lab_url)}"), timeout=LAB_TIMEOUT_MS)
    lab.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)
    print(f"\nOpen Jupyter -> JupyterLab launcher: {time.monotonic() - clicked:.2f} s")
    new_notebook(lab)
    run_cell(lab, "kept = 21; print('before', kept * 2)", "before 42")
    screenshot(lab, "gateway-notebook")

    # The notebook lives in the node: a restarted gateway serves the same kernel.
    gateway.restart()
    run_cell(lab, "print('after', kept)", "after 21")

    colleague = new_page()
    login(colleague, username="bob", password=PASSWORD)
    assert colleague.goto(lab_url).status == 403
    outsider = new_page()
    login(outsider, username="mallory", password=PASSWORD)
    assert outsider.goto(lab_url).status == 404

    anonymous = new_page()
    anonymous.goto(lab_url)
    anonymous.wait_for_url(re.compile(r".*/login/\?next=.*gateway"))
    assert anonymous.get_by_label("Username").is_visible()
