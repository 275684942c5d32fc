"""Issue 21, item 3: any member of a tenant could open Jupyter in a colleague's sandbox, run
code there as its user, and even start it when stopped, while the API refused that member jobs,
start, stop and delete (403). One rule (provisioning.selectors.sandbox_can_manage) now decides
for the API, the pages and the gateway, and opening a notebook never changes state on a GET.
Real JupyterHub and proxy, a real jupyter-pytorch sandbox, headless Chromium."""

import re

import pytest
from rest_framework.test import APIClient

from provisioning.models import Notebook, SandboxStatus
from provisioning.services.sandboxes import sandbox_stop
from tenants.models import Membership, User
from tests.browser.fixtures import login, screenshot
from tests.notebooks.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    hub,
    jupyter_sandbox,
    sandbox_status,
    tenants,
    wait_for,
)
from tests.notebooks.test_gateway_browser import LAB_TIMEOUT_MS

pytestmark = pytest.mark.django_db(transaction=True)


def test_issue21_item3_one_rule_for_notebooks_and_no_start_on_a_get(jupyter_sandbox, hub, new_page):  # noqa: F811
    sandbox = jupyter_sandbox
    colleague = User.objects.create_user(username="bob", password=PASSWORD)
    Membership.objects.create(user=colleague, tenant=sandbox.tenant)  # a member, not an admin

    # The API lets bob see the sandbox, and refuses him what runs code in it or changes it.
    api = APIClient()
    api.force_authenticate(colleague)
    assert api.get(f"/api/v1/sandboxes/{sandbox.pk}/").status_code == 200
    jobs = api.post(
        f"/api/v1/sandboxes/{sandbox.pk}/jobs/", {"command": "id", "nodes": "head"}, format="json"
    )
    assert jobs.status_code == 403
    assert api.post(f"/api/v1/sandboxes/{sandbox.pk}/stop/").status_code == 403

    # The page and the gateway say the same.
    bob = new_page()
    login(bob, username="bob", password=PASSWORD)
    answer = bob.goto(f"/sandboxes/{sandbox.pk}/jupyter/")
    assert answer.status == 403
    assert bob.get_by_text("its tenant's admins may open Jupyter in it").is_visible()
    refused = bob.goto(f"{hub.url}/hub/spawn/bob/{sandbox.pk}")
    assert refused.status == 403
    assert bob.get_by_text("its tenant's admins may open Jupyter in it").is_visible()
    screenshot(bob, "issue21-item3-colleague-refused-by-hub")
    assert not Notebook.objects.filter(user=colleague).exists()

    # A stopped sandbox: neither the portal's page nor the Hub starts it on a GET.
    owner = sandbox.owner
    sandbox_stop(sandbox=sandbox, actor=owner)
    wait_for(lambda: sandbox_status(sandbox.pk) == SandboxStatus.STOPPED, what="the sandbox to stop")
    grace = new_page()
    login(grace, username=owner.username, password=PASSWORD)
    asked = grace.goto(f"/sandboxes/{sandbox.pk}/jupyter/")
    assert asked.status == 200
    start_button = grace.get_by_role("button", name="Start and open Jupyter")
    assert start_button.is_visible()
    hub_page = grace.context.new_page()
    refused = hub_page.goto(f"{hub.url}/hub/spawn/{owner.username}/{sandbox.pk}")
    assert refused.status == 409
    assert hub_page.get_by_text("is stopped: start it from its page in the portal").is_visible()
    hub_page.close()
    assert sandbox_status(sandbox.pk) == SandboxStatus.STOPPED

    # The button posts the form with its CSRF token; that POST starts the sandbox and sends the
    # browser to the Hub, where JupyterLab opens once the sandbox runs. (It is posted from the
    # browser's own session rather than clicked: the live server's Content-Security-Policy was
    # set before this test's Hub had its port, so form-action would refuse that redirect.)
    form = grace.locator(f"form[action='/sandboxes/{sandbox.pk}/jupyter/']")
    csrf = form.locator("input[name=csrfmiddlewaretoken]").get_attribute("value")
    started = grace.context.request.post(
        grace.url, form={"csrfmiddlewaretoken": csrf}, headers={"Referer": grace.url}, max_redirects=0
    )
    assert started.status == 302
    assert started.headers["location"] == f"{hub.url}/hub/spawn/{owner.username}/{sandbox.pk}"
    assert sandbox.operations.filter(kind="start", requested_by=owner).count() == 1
    grace.goto(started.headers["location"])
    grace.wait_for_url(
        re.compile(rf"^{re.escape(hub.url)}/user/{owner.username}/{sandbox.pk}/lab"), timeout=LAB_TIMEOUT_MS
    )
    grace.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)
    assert sandbox_status(sandbox.pk) == SandboxStatus.RUNNING
