"""In Chromium, through the gateway: *Launch* on the form until JupyterLab's launcher shows, and
*Open Jupyter* on a running sandbox until the launcher shows, and as a baseline the same
JupyterLab opened at the node's own address; median of 3 each, printed (issue 16, goal 3). The
image is on the host already; every sandbox is deleted afterwards."""

import re
import statistics
import time
from decimal import Decimal

import pytest

from provisioning.models import Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_delete
from tenants.models import Membership, Tenant, User
from tests.browser.fixtures import login
from tests.gateway.nginx import Gateway
from tests.notebooks.browser import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "bench"  # noqa: S105 - a bench user
SECRET = "secret-of-the-gateway-bench"  # noqa: S105 - a bench value
ROUNDS = 3
LAB_TIMEOUT_MS = 240_000


@pytest.fixture
def gateway(live_server, tmp_path, settings):
    running = Gateway(portal_port=int(live_server.url.rsplit(":", 1)[1]), secret=SECRET, run_dir=tmp_path)
    settings.GATEWAY_SECRET = SECRET
    settings.GATEWAY_URL = running.url
    try:
        yield running.start()
    finally:
        running.stop()


def _open_jupyter(page) -> float:
    """Click Open Jupyter on the sandbox page; seconds until the launcher shows in its tab."""
    link = page.get_by_role("link", name="Open Jupyter", exact=True)
    link.wait_for(timeout=LAB_TIMEOUT_MS)
    clicked = time.monotonic()
    with page.context.expect_page() as opened:
        link.click()
    opened.value.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)
    return time.monotonic() - clicked


def test_launch_and_open_jupyter_to_launcher(
    gateway, new_page, published, celery_worker_process, local_host, docker_client
):
    published("jupyter-pytorch")
    lab = Tenant.objects.create(
        slug="lab",
        name="Lab",
        quota_cpus=Decimal("16"),
        quota_memory_mib=65536,
        quota_storage_gib=200,
        quota_sandboxes=10,
    )
    grace = User.objects.create_user(username="grace", password=PASSWORD)
    Membership.objects.create(user=grace, tenant=lab)
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    launches, opens, directs = [], [], []
    try:
        for round_ in range(ROUNDS):
            page.goto("/sandboxes/new/?app=jupyter-pytorch")
            page.get_by_label("Name").fill(f"bench-{round_}")
            page.locator("#quota-check").filter(has_text="Fits within the quota").wait_for()
            pressed = time.monotonic()
            page.get_by_role("button", name="Launch", exact=True).click()
            page.wait_for_url(re.compile(r".*/sandboxes/\d+/$"))
            _open_jupyter(page)
            launches.append(time.monotonic() - pressed)
            opens.append(_open_jupyter(new_page_at(new_page, page.url)))
            directs.append(_direct(new_page(), Sandbox.objects.get(name=f"bench-{round_}")))
    finally:
        for sandbox in Sandbox.objects.exclude(status=SandboxStatus.DELETED):
            wait_for(
                lambda s=sandbox: Sandbox.objects.get(pk=s.pk).status == SandboxStatus.RUNNING, seconds=240
            )
            sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=grace)
    for what, seconds in (
        ("Launch", launches),
        ("Open Jupyter", opens),
        ("the same JupyterLab, direct,", directs),
    ):
        rounded = [round(s, 2) for s in seconds]
        print(
            f"\ngateway, Chromium: {what} -> launcher, median {statistics.median(seconds):.2f} s of {rounded}"
        )


def _direct(page, sandbox: Sandbox) -> float:
    """The baseline: JupyterLab at the node's own address with its token, as no browser may."""
    head = sandbox.nodes.get(role="head")
    started = time.monotonic()
    page.goto(f"http://{head.ip}:8888{head.gateway_prefix}jupyter/lab?token={sandbox.secret}")
    page.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)
    return time.monotonic() - started


def new_page_at(new_page, url: str):
    """A fresh tab (own cache, same user's cookies) on the sandbox page: Open Jupyter anew."""
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto(url)
    return page
