"""Issue 21, item 3: any tenant member opened Jupyter in a colleague's sandbox (and started it when
stopped) while the API refused that member jobs, start, stop and delete. Now one rule,
`sandbox_can_manage`, decides for the API, the *Open Jupyter* page and the gateway, and opening
never changes state on a GET. With the fake engine; the gateway's real nginx and Chromium are in
tests/gateway/test_gateway_browser.py."""

import pytest
from django.test import Client

from provisioning.models import Sandbox, SandboxStatus
from provisioning.selectors import sandbox_can_manage
from provisioning.services.sandboxes import sandbox_stop
from tests.gateway.conftest import (  # noqa: F401 - fixtures
    cluster_item,
    engine,
    fake_host,
    member,
    notebook,
    notebook_item,
    people,
    small,
    tenant,
)
from tests.gateway.test_gateway_auth import _gateway, ask, lab  # noqa: F401 - its settings fixture
from tests.notebooks.conftest import run

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _gateway_answer(user, sandbox: Sandbox) -> int:
    """The status nginx gives the browser: the refusal's X-Gateway-Status, else the answer's."""
    answer = ask(user, lab(sandbox))
    return int(answer.headers.get("X-Gateway-Status", answer.status_code))


def test_issue21_item3_one_rule_for_api_page_and_gateway(notebook, member, people):  # noqa: F811 - fixtures
    colleague = people["bob"]
    assert not sandbox_can_manage(user=colleague, sandbox=notebook)

    assert _client(colleague).post(f"/api/v1/sandboxes/{notebook.pk}/stop/").status_code == 403
    assert _client(colleague).get(f"/sandboxes/{notebook.pk}/jupyter/").status_code == 403
    assert _gateway_answer(colleague, notebook) == 403
    assert _gateway_answer(member, notebook) == 200


def test_issue21_item3_opening_a_stopped_sandbox_on_a_get_starts_nothing(notebook, member, people):  # noqa: F811
    run(sandbox_stop(sandbox=notebook, actor=member))

    for user in (member, people["bob"]):
        _client(user).get(f"/sandboxes/{notebook.pk}/jupyter/")
    assert Sandbox.objects.get(pk=notebook.pk).status == SandboxStatus.STOPPED
    assert not notebook.operations.filter(kind="start").exists()
