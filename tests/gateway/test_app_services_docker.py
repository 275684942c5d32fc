"""Web services other than Jupyter through the real gateway (nginx in front of the live portal)
on the local engine: TensorBoard of a jupyter-pytorch sandbox, serving the logs a job wrote under
/workspace/runs, and VS Code (code-server, whose own login is off) of a vscode sandbox. The owner
gets them; a colleague without rights is refused with 403, another tenant's user with 404. Both
sandboxes start at once: starting is the slow part."""

import requests
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from provisioning.models import Sandbox, SandboxStatus
from provisioning.selectors import sandbox_endpoints
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from tests.gateway.test_gateway_browser import (  # noqa: F401 - fixtures
    _status,
    gateway,
    people,
    pytestmark,
)
from tests.notebooks.browser import wait_for
from tests.provisioning.conftest import leftovers
from tests.provisioning.test_jobs_docker import by_node, wait_for_job

BUSY = ("pending", "provisioning", "stopping", "starting")
NOTHING = {"containers": [], "networks": [], "volumes": []}
EVENTS = """python - <<'PY'
from torch.utils.tensorboard import SummaryWriter
with SummaryWriter("/workspace/runs/smoke") as writer:
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
PY"""


def browser(user) -> requests.Session:
    """A browser session of `user`: the portal's session cookie, as a login leaves it."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def run_job(sandbox: Sandbox, user, command: str) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    created = client.post(
        f"/api/v1/sandboxes/{sandbox.pk}/jobs/", {"command": command, "nodes": "head"}, format="json"
    )
    assert created.status_code == 202, created.json()
    return wait_for_job(client, created.json()["id"], {"succeeded", "failed"})


def test_tensorboard_and_vscode_open_through_the_gateway_for_the_owner_only(
    people,  # noqa: F811 - a fixture, imported above
    gateway,  # noqa: F811
    published,
    celery_worker_process,
    docker_client,
):
    lab, users = people
    published("jupyter-pytorch", "vscode")
    sandboxes = [
        sandbox_create(owner=users["grace"], tenant=lab, name=item, catalog_item=item, flavor="small")
        for item in ("jupyter-pytorch", "vscode")
    ]
    try:
        for sandbox in sandboxes:
            wait_for(lambda s=sandbox: _status(s.pk) in (SandboxStatus.RUNNING, SandboxStatus.ERROR))
            sandbox.refresh_from_db()
            assert sandbox.status == SandboxStatus.RUNNING, sandbox.explanation
        notebook, vscode = sandboxes
        urls = {e["service"]: e["url"] for s in sandboxes for e in sandbox_endpoints(sandbox=s)}
        assert set(urls) == {"jupyter", "tensorboard", "vscode"}
        assert all(u.startswith(f"{gateway.url}/gateway/") for u in urls.values())

        written = run_job(notebook, users["grace"], EVENTS)
        assert written["status"] == "succeeded", by_node(written)
        owner = browser(users["grace"])
        board = owner.get(urls["tensorboard"], timeout=30)
        assert board.status_code == 200 and "TensorBoard" in board.text
        # TensorBoard reads /workspace/runs again every few seconds.
        wait_for(lambda: owner.get(f"{urls['tensorboard']}data/runs", timeout=30).json() == ["smoke"])

        editor = owner.get(urls["vscode"], timeout=30)
        assert editor.status_code == 200 and "vscode-workbench-web-configuration" in editor.text
        # Its relative links work under the gateway path: the gateway strips it for code-server.
        manifest = owner.get(f"{urls['vscode']}manifest.json", timeout=30)
        assert manifest.status_code == 200 and manifest.json()["name"] == "code-server"

        for url in (urls["tensorboard"], urls["vscode"]):
            assert browser(users["bob"]).get(url, timeout=30).status_code == 403
            assert browser(users["mallory"]).get(url, timeout=30).status_code == 404
            assert requests.get(url, timeout=30, allow_redirects=False).status_code == 302  # to log in
    finally:
        for sandbox in sandboxes:
            wait_for(lambda s=sandbox: _status(s.pk) not in BUSY)
            if _status(sandbox.pk) != SandboxStatus.DELETED:
                sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=users["grace"])
        for sandbox in sandboxes:
            wait_for(lambda s=sandbox: _status(s.pk) == SandboxStatus.DELETED, what="the sandbox's deletion")
    for sandbox in sandboxes:
        assert leftovers(docker_client, sandbox.pk) == NOTHING
