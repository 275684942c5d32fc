"""Issue 21, item 4: the sandbox's SSH private key and the image's Jupyter token were environment
variables, which every process of the node's user reads in /proc and `docker inspect` shows. Now
they are files in /run/sandbox-secrets that only the node's user may read, the gateway adds
Jupyter's token itself, and JupyterLab still works. Real Docker, nginx and Chromium."""

import json
import re
import urllib.parse

import pytest

from tests.browser.fixtures import login
from tests.gateway.test_gateway_browser import (  # noqa: F401 - fixtures
    LAB_TIMEOUT_MS,
    PASSWORD,
    gateway,
    jupyter_sandbox,
    people,
)
from tests.notebooks.browser import new_notebook, run_cell

pytestmark = pytest.mark.django_db(transaction=True)


def _in_node(docker_client, container: str, script: str) -> str:
    """What a shell prints, run as the node's user, like any process of a notebook or a job."""
    created = docker_client.api.exec_create(container, ["/bin/sh", "-c", script], user="1000:1000")
    return docker_client.api.exec_start(created["Id"]).decode("utf-8", "replace")


def test_issue21_item4_secrets_are_in_no_environment_nor_inspect(
    jupyter_sandbox,  # noqa: F811 - a fixture, imported above
    gateway,  # noqa: F811
    new_page,
    docker_client,
):
    sandbox = jupyter_sandbox
    head = sandbox.nodes.get(role="head")
    container = head.container_name
    key_body = sandbox.ssh_private_key.strip().splitlines()[1]  # a line of the key itself
    secrets = {"the Jupyter token": sandbox.secret, "the SSH private key": key_body}

    inspected = json.dumps(docker_client.api.inspect_container(container))
    for what, value in secrets.items():
        assert value not in inspected, f"docker inspect shows {what}"

    # JupyterLab runs a kernel, opened through the gateway.
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto(f"{gateway.url}/gateway/{head.gateway_key}/jupyter/lab")
    page.wait_for_url(re.compile(r".*/jupyter/lab"), timeout=LAB_TIMEOUT_MS)
    new_notebook(page)
    run_cell(page, "print('sum is', 2 + 3)", "sum is 5")

    environments = _in_node(
        docker_client, container, 'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f"; done 2>/dev/null'
    )
    assert "SANDBOX_ROLE=" in environments  # the node's processes' environments were read
    for name in ("JUPYTER_TOKEN=", "SANDBOX_SSH_PRIVATE_KEY"):
        assert name not in environments, f"{name} is in a process environment of the node"
    for what, value in secrets.items():
        assert value not in environments, f"{what} is in a process environment of the node"

    # The secrets are files of the node's user, mode 0600.
    listing = _in_node(
        docker_client, container, "stat -c '%a %u %n' /run/sandbox-secrets /run/sandbox-secrets/*"
    )
    assert sorted(listing.split("\n")) == sorted(
        [
            "",
            "700 1000 /run/sandbox-secrets",
            "600 1000 /run/sandbox-secrets/jupyter_token",
            "600 1000 /run/sandbox-secrets/ssh_private_key",
        ]
    ), listing

    # The image's Jupyter took its token from the file: it answers with it and refuses without.
    status = f"http://127.0.0.1:8888{head.gateway_prefix}jupyter/api/status"
    probe = (
        "python3 -c 'import sys, urllib.request\n"
        "try:\n    print(urllib.request.urlopen(sys.argv[1]).status)\n"
        'except Exception as exc:\n    print(getattr(exc, "code", exc))\' '
    )
    token = urllib.parse.quote(sandbox.secret)
    assert _in_node(docker_client, container, probe + f"'{status}?token={token}'").strip() == "200"
    assert _in_node(docker_client, container, probe + f"'{status}'").strip() == "403"
