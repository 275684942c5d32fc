"""The portal's Open Jupyter URL: whoever may use the sandbox is sent to the gateway URL of the
JupyterLab the sandbox runs; others get a refusal page; a GET never starts anything."""

from django.test import Client

from provisioning.models import Operation, Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_stop
from tests.notebooks.conftest import run


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_and_tenant_admins_are_sent_to_the_gateway(notebook, member, people, settings):
    settings.GATEWAY_URL = "http://gateway.example:8002"
    head = notebook.nodes.get(role="head")
    for user in (member, people["carol"]):
        answer = _client(user).get(f"/sandboxes/{notebook.pk}/jupyter/")
        assert answer.status_code == 302
        assert answer["Location"] == f"http://gateway.example:8002/gateway/{head.gateway_key}/jupyter/lab"


def test_a_colleague_without_rights_is_refused(notebook, people):
    answer = _client(people["bob"]).get(f"/sandboxes/{notebook.pk}/jupyter/")
    assert answer.status_code == 403
    assert "Only the owner of sandbox" in answer.content.decode()


def test_another_tenant_gets_the_refusal_page(notebook, people):
    answer = _client(people["mallory"]).get(f"/sandboxes/{notebook.pk}/jupyter/")

    assert answer.status_code == 404
    page = answer.content.decode()
    assert "You cannot open Jupyter in this sandbox" in page
    assert "secret-project" not in page and "acme" not in page


def test_anonymous_visitors_log_in_first(notebook):
    answer = Client().get(f"/sandboxes/{notebook.pk}/jupyter/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def test_a_stopped_sandbox_is_started_by_a_post_only(notebook, member):
    run(sandbox_stop(sandbox=notebook, actor=member))
    client = _client(member)

    answer = client.get(f"/sandboxes/{notebook.pk}/jupyter/")
    assert answer.status_code == 200 and "Start and open Jupyter" in answer.content.decode()
    assert Sandbox.objects.get(pk=notebook.pk).status == SandboxStatus.STOPPED

    answer = client.post(f"/sandboxes/{notebook.pk}/jupyter/")
    assert answer.status_code == 302 and answer["Location"] == f"/sandboxes/{notebook.pk}/jupyter/"
    assert Sandbox.objects.get(pk=notebook.pk).status == SandboxStatus.STARTING
    assert notebook.operations.filter(kind=Operation.Kind.START, requested_by=member).exists()

    # While it starts, the page waits (and looks again) instead of sending to a dead address.
    answer = client.get(f"/sandboxes/{notebook.pk}/jupyter/")
    assert answer.status_code == 200 and "Jupyter is starting" in answer.content.decode()


def test_a_sandbox_in_error_says_why(notebook, member):
    Sandbox.objects.filter(pk=notebook.pk).update(status=SandboxStatus.ERROR, explanation="disk full")

    answer = _client(member).get(f"/sandboxes/{notebook.pk}/jupyter/")

    assert answer.status_code == 409
    assert "Jupyter cannot open now" in answer.content.decode()
