"""The portal's web side in the launch benchmark as `make run` runs it: gunicorn with
deploy/gunicorn.conf.py in a process of its own, its database connections kept as deployed, and
the gateway (nginx) in front of it for *Open Jupyter*. Django's live test server would run
inside the bench's own process, beside the observer's threads, and open a database connection
for every request: that is not the portal a user meets.

`live_server` and `notebook_gateway` stand in for the test run's fixtures of those names in
the module that imports them."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.test.utils import modify_settings

from tests.gateway.nginx import Gateway, free_port
from tests.processes import stop_group, wait_serving

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_SECRET = "secret-of-the-bench-gateway"  # noqa: S105 - the bench's own gateway
START_S = 60
GUNICORN_CONF = str(ROOT / "deploy" / "gunicorn.conf.py")


class DeployedPortal:
    def __init__(self, *, port: int, log: Path, env: dict[str, str]):
        self.port = port
        # Browsers send one host's cookies to all its ports: the gateway and the portal share a host.
        self.url = f"http://localhost:{port}"
        self.log_path = log
        self.env = env
        self.process: subprocess.Popen | None = None
        # What pytest-django's autouse helper enables around a test that uses `live_server`.
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": "localhost"})

    def start(self) -> "DeployedPortal":
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi", "--config", GUNICORN_CONF],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_serving(
            self.process, self._answers, what="the portal (gunicorn)", log=self.log_path, seconds=START_S
        )
        return self

    def _answers(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/healthz", timeout=2).status_code < 500
        return False

    def stop(self) -> None:
        stop_group(self.process)


@pytest.fixture
def bench_gateway(tmp_path):
    """The gateway, made but not started: the portal needs its address, it the portal's."""
    return Gateway(portal_port=free_port(), secret=GATEWAY_SECRET, run_dir=tmp_path)


@pytest.fixture
def live_server(bench_gateway, transactional_db, settings, tmp_path):
    portal_port = int(bench_gateway.env["PORTAL_BIND"].rsplit(":", 1)[1])
    settings.GATEWAY_SECRET, settings.GATEWAY_URL = GATEWAY_SECRET, bench_gateway.url
    running = DeployedPortal(
        port=portal_port,
        log=tmp_path / "portal-web.log",
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings_test",
            "PORTAL_DB_NAME": settings.DATABASES["default"]["NAME"],
            "PORTAL_TEST_DB_CONN_MAX_AGE": str(settings.DB_CONN_MAX_AGE),
            "PORTAL_BIND": f"127.0.0.1:{portal_port}",
            "PORTAL_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "PORTAL_GATEWAY_SECRET": GATEWAY_SECRET,
            "PORTAL_GATEWAY_URL": bench_gateway.url,
        },
    )
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def notebook_gateway(bench_gateway, live_server):
    try:
        yield bench_gateway.start()
    finally:
        bench_gateway.stop()
