"""The portal's Open Jupyter URL: members are sent into the Hub, others get the refusal page."""

from django.test import Client

from provisioning.models import Notebook, Operation, Sandbox, SandboxStatus
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create, sandbox_stop
from tenants.models import Membership, Tenant, User


def run(operation):
    for _ in range(20):
        if operation_advance(operation_id=operation.pk).again_in is None:
            return
    raise AssertionError("operation did not finish")


def _sandbox(member, tenant) -> Sandbox:
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name="secret-project", catalog_item="notebook", flavor="small"
    )
    run(sandbox.operations.get())
    return sandbox


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_is_sent_to_the_hubs_spawn_page(member, tenant, notebook_item, engine, settings):
    settings.HUB_URL = "http://hub.example:8001"
    sandbox = _sandbox(member, tenant)

    answer = _client(member).get(f"/sandboxes/{sandbox.pk}/jupyter/")

    assert answer.status_code == 302
    assert answer["Location"] == f"http://hub.example:8001/hub/spawn/ada/{sandbox.pk}"
    assert not Notebook.objects.exists()  # a GET writes nothing: the gateway opens the notebook


def test_another_tenant_gets_the_refusal_page(member, tenant, notebook_item, engine):
    sandbox = _sandbox(member, tenant)
    other = Tenant.objects.create(slug="other", name="Other")
    outsider = User.objects.create_user(username="mallory", password="unused")
    Membership.objects.create(user=outsider, tenant=other)

    answer = _client(outsider).get(f"/sandboxes/{sandbox.pk}/jupyter/")

    assert answer.status_code == 404
    page = answer.content.decode()
    assert "You cannot open Jupyter in this sandbox" in page
    assert "secret-project" not in page and "acme" not in page


def test_anonymous_visitors_log_in_first(member, tenant, notebook_item, engine):
    sandbox = _sandbox(member, tenant)
    answer = Client().get(f"/sandboxes/{sandbox.pk}/jupyter/")
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def test_a_stopped_sandbox_is_started_by_a_post_only(member, tenant, notebook_item, engine):
    sandbox = _sandbox(member, tenant)
    run(sandbox_stop(sandbox=sandbox, actor=member))
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    asked = client.get(f"/sandboxes/{sandbox.pk}/jupyter/")
    assert asked.status_code == 200 and "Start and open Jupyter" in asked.content.decode()
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPED
    assert client.post(f"/sandboxes/{sandbox.pk}/jupyter/").status_code == 403  # no CSRF token
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPED

    answer = client.post(
        f"/sandboxes/{sandbox.pk}/jupyter/", {"csrfmiddlewaretoken": asked.context["csrf_token"]}
    )

    assert answer.status_code == 302 and answer["Location"].endswith(f"/hub/spawn/ada/{sandbox.pk}")
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STARTING
    assert sandbox.operations.filter(kind=Operation.Kind.START, requested_by=member).exists()


def test_a_colleague_who_may_not_manage_it_gets_a_refusal(member, tenant, notebook_item, engine):
    sandbox = _sandbox(member, tenant)
    colleague = User.objects.create_user(username="bob", password="unused")
    Membership.objects.create(user=colleague, tenant=tenant)

    answer = _client(colleague).get(f"/sandboxes/{sandbox.pk}/jupyter/")

    assert answer.status_code == 403
    assert "admins may open Jupyter in it" in answer.content.decode()


def test_a_sandbox_in_error_says_why(member, tenant, notebook_item, engine):
    sandbox = _sandbox(member, tenant)
    Sandbox.objects.filter(pk=sandbox.pk).update(status=SandboxStatus.ERROR, explanation="disk full")

    answer = _client(member).get(f"/sandboxes/{sandbox.pk}/jupyter/")

    assert answer.status_code == 409
    assert "Jupyter cannot open now" in answer.content.decode()
