"""The notebook gateway for real: a JupyterHub (with its configurable-http-proxy) started from
deploy/jupyterhub/ against the live test server, and jupyter-pytorch sandboxes on the local
engine. Teardown kills the Hub's process group and deletes the sandboxes through the portal."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from catalog.models import CatalogItem
from provisioning.models import Sandbox, SandboxStatus
from provisioning.services.notebook_gateway import notebook_gateway_ensure
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from provisioning.tests.conftest import (  # noqa: F401 - the fake engine's fixtures
    cluster_item,
    cluster_manifest,
    engine,
    fake_host,
    member,
    small,
    tenant,
)
from tenants.models import Membership, Tenant, User
from tests.provisioning.conftest import docker_client, published  # noqa: F401 - fixtures

ROOT = Path(settings.BASE_DIR)
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
JUPYTERHUB = ROOT / ".venv" / "bin" / "jupyterhub"
CHP = Path(os.environ.get("PORTAL_CHP_BIN", "/opt/portal/chp/node_modules/.bin/configurable-http-proxy"))
PASSWORD = "notebook gateway test"  # noqa: S105 - test users only


@pytest.fixture
def notebook_item(cluster_item):  # noqa: F811 - a fixture, imported above
    """The fake engine's cluster image, with a Jupyter service on its head node."""
    manifest = cluster_manifest(slug="notebook")
    manifest["roles"]["head"]["services"] = [{"name": "jupyter", "port": 8888, "protocol": "http"}]
    return CatalogItem.objects.create(
        slug="notebook",
        name="Notebook",
        version="1",
        category="notebook",
        default_flavor=cluster_item.default_flavor,
        manifest=manifest,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Hub:
    """The notebook gateway as `make run` runs it: configurable-http-proxy started by
    deploy/jupyterhub/proxy.sh, and JupyterHub with the project's own config file."""

    def __init__(self, *, portal_url: str, state_dir: Path, activity_interval_s: int = 5):
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{free_port()}"
        api_host = os.environ.get("PORTAL_HUB_API_HOST", "172.17.0.1")
        # The test database's gateway, re-keyed for each Hub the tests start.
        credentials = notebook_gateway_ensure(hub_url=self.url, rotate=True)
        secrets = {
            "PORTAL_HUB_OAUTH_CLIENT_ID": credentials.client_id,
            "PORTAL_HUB_OAUTH_CLIENT_SECRET": credentials.client_secret,
            "PORTAL_HUB_SERVICE_TOKEN": credentials.service_token,
            "PORTAL_HUB_PROXY_AUTH_TOKEN": "proxy-token-of-the-test",
        }
        env_file = state_dir / "gateway.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in secrets.items()))
        self.env = {
            **os.environ,
            **secrets,
            "PORTAL_HUB_ENV_FILE": str(env_file),
            "PORTAL_URL": portal_url,
            "PORTAL_HUB_URL": self.url,
            "PORTAL_HUB_PROXY_API_PORT": str(free_port()),
            "PORTAL_HUB_API_HOST": api_host,
            "PORTAL_HUB_API_PORT": str(free_port(api_host)),
            "PORTAL_HUB_STATE_DIR": str(state_dir),
            "PORTAL_HUB_ACTIVITY_INTERVAL_S": str(activity_interval_s),
            "PORTAL_CHP_BIN": str(CHP),
        }
        self.log_path = ROOT / "var" / f"test-hub-{os.getpid()}.log"
        self.proxy: subprocess.Popen | None = None
        self.process: subprocess.Popen | None = None

    def _spawn(self, command: list[str]) -> subprocess.Popen:
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, killed as one
            )

    def start(self, seconds: float = 60) -> "Hub":
        if self.proxy is None or self.proxy.poll() is not None:
            self.proxy = self._spawn(["bash", str(ROOT / "deploy" / "jupyterhub" / "proxy.sh")])
        self.process = self._spawn([str(JUPYTERHUB), "-f", str(CONFIG)])
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in (("JupyterHub", self.process), ("the proxy", self.proxy)):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/health", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not answer within {seconds}s; see {self.log_path}")

    def stop_hub(self) -> None:
        """SIGTERM, as a service manager stops it; the proxy stays."""
        _terminate(self.process)

    def stop(self) -> None:
        _terminate(self.process)
        _terminate(self.proxy)

    def restart(self) -> "Hub":
        self.stop_hub()
        return self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _terminate(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with contextlib.suppress(ProcessLookupError):  # anything it left in its group
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def hub(live_server, tmp_path, transactional_db, settings):
    assert CHP.exists(), "configurable-http-proxy is missing: run `bash deploy/jupyterhub.sh`"
    (tmp_path / "hub").mkdir()
    gateway = Hub(portal_url=live_server.url, state_dir=tmp_path / "hub")
    settings.HUB_URL = gateway.url  # where the portal sends browsers (the live server is in-process)
    try:
        yield gateway.start()
    finally:
        gateway.stop()


@pytest.fixture
def tenants(transactional_db, local_host):
    """Tenant `lab` with member grace, tenant `other` with member mallory."""
    lab = Tenant.objects.create(
        slug="lab", name="Lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100
    )
    other = Tenant.objects.create(slug="other", name="Other")
    grace = User.objects.create_user(username="grace", password=PASSWORD)
    mallory = User.objects.create_user(username="mallory", password=PASSWORD)
    Membership.objects.create(user=grace, tenant=lab)
    Membership.objects.create(user=mallory, tenant=other)
    return lab, grace, mallory


def wait_for(predicate, *, seconds: float = 300, what: str = "condition", every: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what} after {seconds}s")


def sandbox_status(sandbox_id: int) -> str:
    return Sandbox.objects.values_list("status", flat=True).get(pk=sandbox_id)


@pytest.fixture
def jupyter_sandbox(tenants, published, celery_worker_process, docker_client):  # noqa: F811
    """A running jupyter-pytorch sandbox of tenant lab, owned by grace; deleted afterwards."""
    lab, grace, _mallory = tenants
    published("jupyter-pytorch")
    sandbox = sandbox_create(
        owner=grace, tenant=lab, name="nb", catalog_item="jupyter-pytorch", flavor="medium"
    )
    try:
        wait_for(
            lambda: sandbox_status(sandbox.pk) in (SandboxStatus.RUNNING, SandboxStatus.ERROR),
            what="the sandbox to run",
        )
        sandbox.refresh_from_db()
        assert sandbox.status == SandboxStatus.RUNNING, sandbox.explanation
        yield sandbox
    finally:
        sandbox.refresh_from_db()
        wait_for(
            lambda: sandbox_status(sandbox.pk) not in ("pending", "provisioning", "stopping", "starting")
        )
        if sandbox_status(sandbox.pk) != SandboxStatus.DELETED:
            sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=grace)
            wait_for(
                lambda: sandbox_status(sandbox.pk) == SandboxStatus.DELETED, what="the sandbox's deletion"
            )
