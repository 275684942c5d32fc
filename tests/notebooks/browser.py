"""Driving JupyterLab in Chromium: a new notebook, a cell run until its output shows."""

import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.fixtures import screenshot

LAB_TIMEOUT_MS = 180_000
RERUN_AFTER_MS = 20_000


def new_notebook(page) -> None:
    # On a loaded machine JupyterLab may time out fetching its theme and say so in a dialog;
    # that is cosmetic, so close it rather than let it cover the launcher.
    dialog_button = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if dialog_button.count():
        dialog_button.first.click()
    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    try:
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        # The kernel is ready when its status reads idle; a narrow toolbar may fold the
        # indicator away, so it need only be there.
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
            state="attached", timeout=LAB_TIMEOUT_MS
        )
    except Exception:
        screenshot(page, "notebook-new-failed")
        raise


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


def wait_for(predicate, *, seconds: float = 300, what: str = "condition", every: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what} after {seconds}s")
