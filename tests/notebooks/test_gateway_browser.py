"""Open Jupyter in a real headless Chromium: portal login, single sign-on into JupyterHub, a
JupyterLab running in the sandbox's head node computing with torch; refusal for another tenant;
a Hub restart under an open notebook; the idle limit stopping the sandbox."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from provisioning.models import Notebook, Operation, SandboxStatus
from provisioning.services.notebooks import IDLE_STOP_ACTION, notebooks_idle_stop
from tenants.models import AuditEvent
from tests.browser.fixtures import login, screenshot
from tests.notebooks.conftest import PASSWORD, sandbox_status, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LAB_TIMEOUT_MS = 180_000
RERUN_AFTER_MS = 20_000


def open_jupyter(page, sandbox_id: int, hub):
    """Click Open Jupyter on the sandbox page (it opens a tab) and land in JupyterLab."""
    page.goto(f"/sandboxes/{sandbox_id}/")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open Jupyter", exact=True).click()
    lab = opened.value
    lab.wait_for_url(
        re.compile(rf"^{re.escape(hub.url)}/user/grace/{sandbox_id}/lab"), timeout=LAB_TIMEOUT_MS
    )
    lab.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)
    return lab


def new_notebook(page) -> None:
    # On a loaded machine JupyterLab may time out fetching its theme and say so in a dialog;
    # that is cosmetic, so close it rather than let it cover the launcher.
    dialog_button = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if dialog_button.count():
        dialog_button.first.click()
    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # The kernel is ready when its status reads idle.
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=LAB_TIMEOUT_MS)


def run_cell(page, code: str, expected: str, *, timeout_ms: int = 120_000) -> None:
    """Type code into the last cell, run it, and wait until its output shows `expected`."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    cell = cells.nth(cells.count() - 1)
    cell.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    output = cell.locator(".jp-OutputArea-output", has_text=expected)
    try:
        for _attempt in range(timeout_ms // RERUN_AFTER_MS):
            try:
                output.wait_for(timeout=RERUN_AFTER_MS)
                return
            except PlaywrightTimeout:
                # A run sent while JupyterLab was still (re)connecting to the kernel is dropped
                # (the prompt stays "[ ]"); a person would press run again, and so do we.
                if cell.locator(".jp-InputPrompt").inner_text().strip() == "[ ]:":
                    cell.locator(".cm-content").click()
                    page.keyboard.press("Control+Enter")
        output.wait_for(timeout=1000)
    except Exception:
        screenshot(page, "notebook-cell-failed")
        raise


def test_open_jupyter_computes_with_torch_and_refuses_other_tenants(jupyter_sandbox, hub, new_page):
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page = open_jupyter(page, jupyter_sandbox.pk, hub)
    new_notebook(page)
    run_cell(
        page,
        "import torch; x = torch.arange(6.).reshape(2, 3); print('trace is', int((x @ x.T).trace()))",
        "trace is 55",
    )
    screenshot(page, "notebook-torch")
    notebook = Notebook.objects.get(sandbox=jupyter_sandbox)
    assert notebook.user.username == "grace" and notebook.port == 8889 and notebook.exec_id

    other = new_page()
    login(other, username="mallory", password=PASSWORD)
    answer = other.goto(f"/sandboxes/{jupyter_sandbox.pk}/jupyter/")
    assert answer.status == 404
    assert other.get_by_role("heading", name="You cannot open Jupyter in this sandbox").is_visible()
    assert "grace" not in other.content() and jupyter_sandbox.name not in other.locator("main").inner_text()
    screenshot(other, "notebook-refused")
    # Going to the Hub directly is no way around it: the portal refuses the spawn.
    refused = other.goto(f"{hub.url}/hub/spawn/mallory/{jupyter_sandbox.pk}")
    assert refused.status == 403
    assert other.get_by_text(f"No sandbox {jupyter_sandbox.pk} that mallory may open").is_visible()
    screenshot(other, "notebook-refused-by-hub")
    assert Notebook.objects.filter(sandbox=jupyter_sandbox).count() == 1


def test_notebook_keeps_working_across_a_hub_restart(jupyter_sandbox, hub, new_page):
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page = open_jupyter(page, jupyter_sandbox.pk, hub)
    new_notebook(page)
    run_cell(page, "kept = 21; print('before', kept)", "before 21")

    hub.restart()

    # The same page, the same kernel: its variables survived, and the Hub re-attached.
    run_cell(page, "print('after', kept * 2)", "after 42", timeout_ms=120_000)
    screenshot(page, "notebook-after-hub-restart")
    page.goto(f"{hub.url}/hub/home")
    assert page.locator(f"tr[data-server-name='{jupyter_sandbox.pk}']").first.is_visible()


def test_idle_limit_stops_the_sandbox(jupyter_sandbox, hub, new_page):
    tenant = jupyter_sandbox.tenant
    tenant.notebook_idle_minutes = 1
    tenant.save(update_fields=["notebook_idle_minutes"])
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    open_jupyter(page, jupyter_sandbox.pk, hub)
    page.context.close()  # nobody uses it from now on

    notebook = Notebook.objects.get(sandbox=jupyter_sandbox)
    # The Hub reports the server's activity to the portal on every poll.
    wait_for(
        lambda: Notebook.objects.get(pk=notebook.pk).last_activity != notebook.last_activity,
        seconds=60,
        what="the Hub to report activity",
    )
    assert notebooks_idle_stop() == []  # not idle for a minute yet
    last = Notebook.objects.get(pk=notebook.pk).last_activity
    wait_for(lambda: timezone.now() - last > timedelta(minutes=1, seconds=2), seconds=90, every=1)
    # The last report may have come later than `last`: stop once a whole minute passed since.
    stopped = wait_for(lambda: notebooks_idle_stop(), seconds=60, every=2, what="the idle stop")
    assert stopped == [jupyter_sandbox.pk]

    wait_for(lambda: sandbox_status(jupyter_sandbox.pk) == SandboxStatus.STOPPED, what="the sandbox to stop")
    event = AuditEvent.objects.get(action=IDLE_STOP_ACTION, object_id=str(jupyter_sandbox.pk))
    assert event.tenant == tenant and event.detail["idle_minutes"] == 1
    stop = Operation.objects.filter(sandbox=jupyter_sandbox, kind=Operation.Kind.STOP).get()
    assert stop.status == "succeeded" and "no activity" in stop.explanation

    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto(f"/sandboxes/{jupyter_sandbox.pk}/")
    assert page.get_by_text("by the idle limit", exact=False).first.is_visible()
    screenshot(page, "sandbox-idle-stopped")
