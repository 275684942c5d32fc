"""The notebook services and API against the fake engine: who may open what, how a server is
run in the head node, polled and stopped, and the idle limit."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from provisioning.errors import InvalidRequest, NotFound, StateConflict
from provisioning.models import Notebook, Operation, SandboxStatus
from provisioning.services.notebook_gateway import CLIENT_ID, notebook_gateway_ensure
from provisioning.services.notebooks import (
    IDLE_STOP_ACTION,
    NotebookForbidden,
    SandboxStopped,
    notebook_open,
    notebook_poll,
    notebook_sandbox,
    notebook_start,
    notebook_stop,
    notebooks_idle_stop,
)
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create, sandbox_stop
from tenants.models import AuditEvent, Membership, Tenant, User

HUB_ENV = {"JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8889/user/ada/1/"}
TOKEN = "hub-secret"  # noqa: S105 - a test value


def _started(user, sandbox):
    return notebook_start(
        notebook=notebook_open(user=user, sandbox_id=sandbox.pk), environment=HUB_ENV, api_token=TOKEN
    )


def run(operation):
    for _ in range(20):
        if operation_advance(operation_id=operation.pk).again_in is None:
            return
    raise AssertionError("operation did not finish")


@pytest.fixture
def sandbox(member, tenant, notebook_item, engine):
    created = sandbox_create(
        owner=member, tenant=tenant, name="nb", catalog_item="notebook", flavor="small", nodes={"worker": 1}
    )
    run(created.operations.get())
    created.refresh_from_db()
    assert created.status == SandboxStatus.RUNNING
    return created


@pytest.fixture
def outsider(db):
    other = Tenant.objects.create(slug="other", name="Other")
    user = User.objects.create_user(username="mallory", password="unused")
    Membership.objects.create(user=user, tenant=other)
    return user


def test_users_get_one_notebook_each_on_its_own_port(sandbox, member, tenant):
    colleague = User.objects.create_user(username="bob", password="unused")
    Membership.objects.create(user=colleague, tenant=tenant, role=Membership.Role.ADMIN)

    mine = notebook_open(user=member, sandbox_id=sandbox.pk)
    theirs = notebook_open(user=colleague, sandbox_id=sandbox.pk)

    assert (mine.port, theirs.port) == (8889, 8890)
    assert notebook_open(user=member, sandbox_id=sandbox.pk) == mine


def test_another_tenant_is_refused_like_a_missing_sandbox(sandbox, outsider):
    with pytest.raises(NotFound, match=f"No sandbox {sandbox.pk} that mallory may open"):
        notebook_open(user=outsider, sandbox_id=sandbox.pk)
    with pytest.raises(NotFound):
        notebook_open(user=outsider, sandbox_id=999_999)
    assert not Notebook.objects.exists()


def test_start_runs_the_server_in_the_head_node_with_the_hubs_environment(sandbox, member, engine):
    notebook = notebook_open(user=member, sandbox_id=sandbox.pk)

    started = notebook_start(notebook=notebook, environment=HUB_ENV, api_token=TOKEN, args=["--debug"])

    assert started.node.role == "head" and started.node.ip == "10.0.0.2"
    (record,) = engine.execs.values()
    assert record["container"] == started.node.container_name
    assert record["environment"] == HUB_ENV
    assert record["user"] == "1000:1000" and record["workdir"] == "/workspace"
    assert record["command"][-3:] == ["sandbox-notebook", "/run/sandbox-secrets/hub_token_8889", "--debug"]
    assert record["running"]
    # The token is a file only the node's user may read, and in no environment.
    secrets = engine.containers[started.node.container_name]["secret_files"]
    assert secrets["hub_token_8889"] == (TOKEN, "1000:1000")
    assert TOKEN not in str(record)
    # Asking again (a retrying or restarted Hub) adopts the running server.
    assert notebook_start(notebook=started, environment=HUB_ENV, api_token=TOKEN).exec_id == started.exec_id
    assert len(engine.execs) == 1


def test_start_refuses_variables_that_are_not_the_hubs(sandbox, member, engine):
    notebook = notebook_open(user=member, sandbox_id=sandbox.pk)
    with pytest.raises(InvalidRequest, match="LD_PRELOAD"):
        notebook_start(notebook=notebook, environment={**HUB_ENV, "LD_PRELOAD": "/tmp/x.so"}, api_token=TOKEN)
    with pytest.raises(InvalidRequest, match="Only options"):
        notebook_start(notebook=notebook, environment=HUB_ENV, api_token=TOKEN, args=["; rm -rf /"])
    assert engine.execs == {}


def test_a_stopped_sandbox_starts_only_when_asked_to(sandbox, member, engine):
    run(sandbox_stop(sandbox=sandbox, actor=member))
    with pytest.raises(SandboxStopped, match="start it from its page in the portal"):
        notebook_open(user=member, sandbox_id=sandbox.pk)
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPED and not Notebook.objects.exists()

    notebook_sandbox(user=member, sandbox_id=sandbox.pk, start=True)
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STARTING
    notebook = notebook_open(user=member, sandbox_id=sandbox.pk)
    assert notebook_start(notebook=notebook, environment=HUB_ENV, api_token=TOKEN) is None  # ask again

    run(sandbox.operations.get(kind=Operation.Kind.START))
    assert notebook_start(notebook=notebook, environment=HUB_ENV, api_token=TOKEN).exec_id


def test_start_takes_the_token_apart_from_the_environment(sandbox, member, engine):
    notebook = notebook_open(user=member, sandbox_id=sandbox.pk)
    with pytest.raises(InvalidRequest, match="JUPYTERHUB_API_TOKEN must not be in the environment"):
        notebook_start(
            notebook=notebook, environment={**HUB_ENV, "JUPYTERHUB_API_TOKEN": TOKEN}, api_token=TOKEN
        )
    with pytest.raises(InvalidRequest, match="token for the server is required"):
        notebook_start(notebook=notebook, environment=HUB_ENV, api_token=" ")
    assert engine.execs == {}


def test_a_member_who_left_cannot_start_the_server(sandbox, member, engine):
    notebook = notebook_open(user=member, sandbox_id=sandbox.pk)
    Membership.objects.filter(user=member).delete()
    with pytest.raises(NotFound):
        notebook_start(notebook=notebook, environment=HUB_ENV, api_token=TOKEN)
    assert engine.execs == {}


def test_poll_records_activity_and_sees_the_server_end(sandbox, member, engine):
    notebook = _started(member, sandbox)
    later = timezone.now() + timedelta(minutes=5)

    assert notebook_poll(notebook=notebook, last_activity=later) is True
    assert notebook_poll(notebook=notebook, last_activity=later - timedelta(hours=1)) is True
    assert Notebook.objects.get(pk=notebook.pk).last_activity == later  # never goes back

    engine.exec_end(notebook.exec_id, exit_code=1)
    assert notebook_poll(notebook=notebook) is False


def test_stop_ends_the_server_and_keeps_the_sandbox(sandbox, member, engine):
    notebook = _started(member, sandbox)

    notebook_stop(notebook=notebook)

    kill = list(engine.execs.values())[-1]
    assert kill["command"][:2] == ["/bin/sh", "-c"] and "kill -TERM" in kill["command"][2]
    assert "/tmp/portal-notebook-8889/pid" in kill["command"][2]
    assert Notebook.objects.get(pk=notebook.pk).exec_id == ""
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.RUNNING


def _idle_since(notebook, minutes):
    Notebook.objects.filter(pk=notebook.pk).update(last_activity=timezone.now() - timedelta(minutes=minutes))


def test_idle_limit_is_off_by_default(sandbox, member, engine):
    notebook = _started(member, sandbox)
    _idle_since(notebook, 60 * 24)
    assert notebooks_idle_stop() == []


def test_idle_limit_stops_only_sandboxes_idle_for_longer(sandbox, member, tenant, engine):
    tenant.notebook_idle_minutes = 30
    tenant.save()
    notebook = _started(member, sandbox)

    _idle_since(notebook, 29)
    assert notebooks_idle_stop() == []

    _idle_since(notebook, 31)
    assert notebooks_idle_stop() == [sandbox.pk]

    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPING  # stopped, not deleted
    stop = sandbox.operations.get(kind=Operation.Kind.STOP)
    assert "no activity for more than 30 minutes" in stop.explanation and stop.requested_by is None
    event = AuditEvent.objects.get(action=IDLE_STOP_ACTION)
    assert (event.tenant, event.object_id, event.detail["idle_minutes"]) == (tenant, str(sandbox.pk), 30)
    assert Notebook.objects.get(pk=notebook.pk).exec_id == ""
    run(stop)
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPED
    assert notebooks_idle_stop() == []  # once


def _gateway_client():
    credentials = notebook_gateway_ensure(hub_url="http://hub.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {credentials.service_token}")
    return client


def test_notebook_api_answers_the_gateway_only(sandbox, member):
    body = {"sandbox": sandbox.pk, "user": member.username}
    as_member = APIClient()
    as_member.force_authenticate(member)
    assert as_member.post("/api/v1/notebooks/", body, format="json").status_code == 403

    gateway = _gateway_client()
    opened = gateway.post("/api/v1/notebooks/", body, format="json")
    assert opened.status_code == 200, opened.json()
    assert opened.json()["port"] == 8889 and opened.json()["running"] is False

    started = gateway.post(
        f"/api/v1/notebooks/{opened.json()['id']}/start/",
        {"environment": HUB_ENV, "api_token": TOKEN},
        format="json",
    )
    assert started.status_code == 200, started.json()
    assert (started.json()["ip"], started.json()["running"]) == ("10.0.0.2", True)


def test_notebook_api_refuses_an_outsider_with_404(sandbox, outsider):
    answer = _gateway_client().post(
        "/api/v1/notebooks/", {"sandbox": sandbox.pk, "user": outsider.username}, format="json"
    )
    assert answer.status_code == 404
    assert answer.json()["detail"] == f"No sandbox {sandbox.pk} that mallory may open."


def test_gateway_setup_is_idempotent(db):
    first = notebook_gateway_ensure(hub_url="http://hub.example")
    again = notebook_gateway_ensure(
        hub_url="http://hub.example", client_secret=first.client_secret, service_token=first.service_token
    )
    assert again == first
    renewed = notebook_gateway_ensure(
        hub_url="http://hub.example:9", client_secret="wrong", service_token="bad", rotate=True
    )
    assert renewed.client_secret != first.client_secret and renewed.service_token != first.service_token
    assert renewed.client_id == CLIENT_ID


def test_userinfo_names_the_token_owner_and_tenants(member, tenant):
    notebook_gateway_ensure(hub_url="http://hub.example")
    token = AccessToken.objects.create(
        user=member,
        application=Application.objects.get(client_id=CLIENT_ID),
        token="access-token-for-test",
        scope="profile",
        expires=timezone.now() + timedelta(minutes=5),
    )
    client = APIClient()
    answer = client.get("/api/v1/notebooks/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert answer.status_code == 200, answer.content
    assert answer.json()["username"] == "ada" and answer.json()["tenants"] == [tenant.slug]
    assert client.get("/api/v1/notebooks/userinfo/", HTTP_AUTHORIZATION="Bearer nope").status_code in (
        401,
        403,
    )


def test_an_image_without_jupyter_is_refused(member, tenant, cluster_item, engine):
    plain = sandbox_create(owner=member, tenant=tenant, name="plain", catalog_item="cluster", flavor="small")
    with pytest.raises(StateConflict, match="which has no Jupyter"):
        notebook_open(user=member, sandbox_id=plain.pk)
    assert not Notebook.objects.exists()


def test_a_colleague_who_may_not_manage_the_sandbox_may_not_open_it(sandbox, member, tenant, engine):
    colleague = User.objects.create_user(username="bob", password="unused")
    Membership.objects.create(user=colleague, tenant=tenant)
    with pytest.raises(NotebookForbidden, match="Only the owner of sandbox 'nb' and its tenant's admins"):
        notebook_open(user=colleague, sandbox_id=sandbox.pk)
    answer = _gateway_client().post(
        "/api/v1/notebooks/", {"sandbox": sandbox.pk, "user": "bob"}, format="json"
    )
    assert answer.status_code == 403 and "its tenant's admins" in answer.json()["detail"]
    assert not Notebook.objects.exists() and engine.execs == {}


def test_a_running_server_ends_when_its_user_may_no_longer_use_the_sandbox(sandbox, member, tenant, engine):
    admin = User.objects.create_user(username="alan", password="unused")
    Membership.objects.create(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    notebook = _started(admin, sandbox)
    assert notebook_poll(notebook=notebook) is True

    Membership.objects.filter(user=admin).update(role=Membership.Role.MEMBER)

    assert notebook_poll(notebook=notebook) is False
    kill = list(engine.execs.values())[-1]
    assert "kill -TERM" in kill["command"][2]
    assert Notebook.objects.get(pk=notebook.pk).exec_id == ""
