"""In a real browser, the Content-Security-Policy refuses nothing the pages need: Chromium
reports every refused script, style, image or connection on the console."""

import pytest

from tenants.tests.factories import PASSWORD
from tests.browser.fixtures import login

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/sandboxes/",
    "/sandboxes/new/",
    "/catalog/",
    "/usage/",
    "/hosts/",
    "/datataps/",
    "/tenants/",
    "/tokens/",
    "/api/docs/",
    "/admin/",
]


def test_no_page_triggers_a_policy_violation(world, new_page):
    page = new_page()
    refused = []
    page.on(
        "console",
        lambda message: refused.append(f"{page.url}: {message.text}")
        if "Content Security Policy" in message.text
        else None,
    )
    login(page, username=world.root.username, password=PASSWORD)
    for path in [*PAGES, f"/sandboxes/{world.sandbox.pk}/"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # Swagger UI drew the API from the schema, with its script from a file.
    page.goto("/api/docs/")
    page.get_by_text("AI Sandbox Portal API").first.wait_for()
    assert refused == []


def test_an_injected_inline_script_is_refused(world, new_page):
    """The policy is in force: a script element that slipped into a page does not run."""
    page = new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    login(page, username=world.root.username, password=PASSWORD)
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.pwned") is None
    assert any("Content Security Policy" in text for text in refused), refused
