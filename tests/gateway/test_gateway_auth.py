"""What the portal answers the gateway's auth_request: the upstream and Jupyter's token for whoever
may use the sandbox, a refusal for everybody else, and the node's activity for the idle stop."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from provisioning.models import Node, Sandbox, SandboxStatus
from provisioning.selectors import sandbox_endpoints, sandbox_list
from provisioning.services.notebooks import IDLE_STOP_ACTION, notebooks_idle_stop
from tenants.models import AuditEvent

SECRET = "gateway-secret-of-the-tests"  # noqa: S105 - a test value


@pytest.fixture(autouse=True)
def _gateway(settings):
    settings.GATEWAY_SECRET = SECRET
    settings.GATEWAY_URL = "http://gateway.example:8002"


def ask(user, uri: str, *, secret: str = SECRET):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get("/gateway/auth", HTTP_X_ORIGINAL_URI=uri, HTTP_X_GATEWAY_SECRET=secret)


def lab(sandbox: Sandbox, rest: str = "lab") -> str:
    return f"{sandbox.nodes.get(role='head').gateway_prefix}jupyter/{rest}"


def test_the_owner_and_tenant_admins_pass_with_the_token_added(notebook, member, people):
    head = notebook.nodes.get(role="head")
    for user in (member, people["carol"]):
        answer = ask(user, lab(notebook, "api/kernels?x=1"))
        assert answer.status_code == 200
        assert answer["X-Gateway-Upstream"] == f"{head.ip}:8888"
        assert answer["X-Gateway-Authorization"] == f"token {notebook.secret}"


def test_refusals_say_which_answer_the_browser_gets(notebook, people):
    colleague = ask(people["bob"], lab(notebook))
    outsider = ask(people["mallory"], lab(notebook))
    unknown = ask(people["carol"], "/gateway/nosuchnode/jupyter/lab")
    not_http = ask(people["carol"], f"{notebook.nodes.get(role='head').gateway_prefix}ssh/")
    for answer, status in ((colleague, "403"), (outsider, "404"), (unknown, "404"), (not_http, "404")):
        assert answer.status_code == 403 and answer["X-Gateway-Status"] == status
        assert "X-Gateway-Upstream" not in answer and "X-Gateway-Authorization" not in answer


def test_a_stopped_node_is_not_ready(notebook, member):
    Node.objects.filter(sandbox=notebook).update(status="stopped")
    answer = ask(member, lab(notebook))
    assert answer.status_code == 403 and answer["X-Gateway-Status"] == "503"


def test_a_logged_out_browser_is_sent_to_the_login_page_and_back(notebook, member):
    answer = ask(None, lab(notebook, "lab/tree"))
    assert answer.status_code == 401
    login = answer["X-Gateway-Login"]
    assert login.startswith("http://testserver/login/?next=")

    client = Client()
    client.force_login(member)
    back = client.get(f"/gateway/continue/?to={lab(notebook, 'lab/tree')}")
    assert (
        back.status_code == 302
        and back["Location"] == f"http://gateway.example:8002{lab(notebook, 'lab/tree')}"
    )
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/gateway/x/jupyter/",
        "/gateway/x/jupyter//evil",
    ):
        assert client.get("/gateway/continue/", {"to": elsewhere}).status_code == 404


def test_only_the_gateway_may_ask(notebook, member, settings):
    assert ask(member, lab(notebook), secret="guess").status_code == 404
    settings.GATEWAY_SECRET = ""
    assert ask(member, lab(notebook), secret="").status_code == 404


def test_endpoints_are_gateway_urls_never_node_addresses(notebook, member):
    head = notebook.nodes.get(role="head")
    endpoints = sandbox_endpoints(sandbox=sandbox_list(user=member).get(pk=notebook.pk))
    assert [e["url"] for e in endpoints] == [
        f"http://gateway.example:8002/gateway/{head.gateway_key}/jupyter/lab"
    ]
    assert all(head.ip not in e["url"] for e in endpoints)


def test_activity_is_recorded_at_most_once_a_minute_and_feeds_the_idle_stop(notebook, member, tenant):
    head = notebook.nodes.get(role="head")
    ask(member, lab(notebook))
    first = Node.objects.get(pk=head.pk).gateway_activity
    assert first is not None
    ask(member, lab(notebook))
    assert Node.objects.get(pk=head.pk).gateway_activity == first  # throttled: no second write

    tenant.notebook_idle_minutes = 30
    tenant.save(update_fields=["notebook_idle_minutes"])
    assert notebooks_idle_stop(now=first + timedelta(minutes=29)) == []
    # The sandbox began to run before the activity: the activity counts.
    assert notebooks_idle_stop(now=max(first, timezone.now()) + timedelta(minutes=31)) == [notebook.pk]
    assert Sandbox.objects.get(pk=notebook.pk).status == SandboxStatus.STOPPING
    assert AuditEvent.objects.filter(action=IDLE_STOP_ACTION, object_id=str(notebook.pk)).exists()
    assert Node.objects.get(pk=head.pk).gateway_activity is None


def test_a_service_that_cannot_serve_under_its_gateway_path_has_it_stripped(notebook, notebook_item, member):
    manifest = notebook_item.manifest
    manifest["roles"]["head"]["services"].append(
        {"name": "vscode", "port": 8443, "protocol": "http", "path": "/", "strip_prefix": True}
    )
    notebook_item.manifest = manifest
    notebook_item.save(update_fields=["manifest"])
    head = notebook.nodes.get(role="head")

    vscode = ask(member, f"{head.gateway_prefix}vscode/static/x.js")
    jupyter = ask(member, lab(notebook))

    assert vscode.status_code == 200 and vscode["X-Gateway-Upstream"] == f"{head.ip}:8443"
    assert vscode["X-Gateway-Strip-Prefix"] == "1" and vscode["X-Gateway-Authorization"] == ""
    assert jupyter["X-Gateway-Strip-Prefix"] == "0"
