"""Smoke tests of the cluster apps on real Docker: one small cluster per module, launched
through the portal's API and driven by a real Celery worker, its jobs run through the jobs API,
its web UIs reached through the real gateway (nginx) in front of the live portal."""

import contextlib
import time

import pytest
import requests
from django.conf import settings
from django.test import Client

from tests.gateway.nginx import Gateway
from tests.provisioning.conftest import (  # noqa: F401
    docker_client,
    leftovers,
    published,
    team,
    wait_for_status,
)
from tests.provisioning.test_jobs_docker import by_node, run_job, training_data, wait_for_job  # noqa: F401

GATEWAY_SECRET = "secret-of-the-apps-tests"  # noqa: S105 - test value
NOTHING = {"containers": [], "networks": [], "volumes": []}


@contextlib.contextmanager
def running_cluster(client, engine, slug: str, *, workers: int, datataps=()):
    """A running sandbox of `slug` (a head, `workers` workers, small nodes), deleted after, with
    nothing of it left on the engine."""
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": slug,
            "catalog_item": slug,
            "flavor": "small",
            "nodes": {"worker": workers},
            "datataps": list(datataps),
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    try:
        yield wait_for_status(client, sandbox_id, {"running"}, seconds=600)
    finally:
        body = client.get(f"/api/v1/sandboxes/{sandbox_id}/").json()
        if body["status"] not in ("deleting", "deleted"):
            wait_for_status(client, sandbox_id, {"running", "stopped", "error"}, seconds=300)
            assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
        wait_for_status(client, sandbox_id, {"deleted"}, seconds=300)
        assert leftovers(engine, sandbox_id) == NOTHING


def job_log(client, sandbox_id: int, command: str, *, nodes: str = "head", seconds: int = 300) -> dict:
    """Run `command` as a job on `nodes` and return the finished job, which must have succeeded."""
    job = wait_for_job(
        client, run_job(client, sandbox_id, command, nodes)["id"], {"succeeded", "failed"}, seconds=seconds
    )
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture
def gateway(live_server, tmp_path, settings):  # noqa: F811 - pytest-django's settings
    """nginx as `make run` runs it, in front of the live portal."""
    port = int(live_server.url.rsplit(":", 1)[1])
    running = Gateway(portal_port=port, secret=GATEWAY_SECRET, run_dir=tmp_path)
    settings.GATEWAY_SECRET = GATEWAY_SECRET
    settings.GATEWAY_URL = running.url
    try:
        yield running.start()
    finally:
        running.stop()


def browser_session(user) -> requests.Session:
    """An HTTP session logged in as `user` with the portal's session cookie, as a browser's."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def get_until(
    session: requests.Session, url: str, *, contains: str, seconds: float = 120
) -> requests.Response:
    """GET `url` until it answers 200 with `contains` in its body (a UI fills in as workers join)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = session.get(url, timeout=10, allow_redirects=False)
        if answer.status_code == 200 and contains in answer.text:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} answered {answer.status_code}: {answer.text[:2000]}")
        time.sleep(1)
