"""The peer: JupyterHub + DockerSpawner, as its documentation sets it up, starting the same
image on the local engine, with jupyterhub-singleuser added on top (`peer_image`: the catalog
images no longer ship it, since the portal has no Hub). The Hub is installed into the bench's
own virtualenv (var/bench-venv, made on demand), never into the portal's; its proxy is the
configurable-http-proxy the portal installs.

A cold create is the spawn API call (`POST /hub/api/users/<u>/server` with an admin token) until
the single-user server answers through the Hub's proxy, probed by bench/probe.py."""

import contextlib
import io
import os
import secrets
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench import cpu
from bench.probe import direct_session, wait_until_answers
from tests.processes import stop_group, wait_serving

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench-venv"
# The Hub the portal pins (requirements.txt), and DockerSpawner's current major version.
PACKAGES = ["jupyterhub==5.4.2", "dockerspawner==14.*"]
CHP = Path(os.environ.get("PORTAL_CHP_BIN", "/opt/portal/chp/node_modules/.bin/configurable-http-proxy"))
#: Containers reach the Hub's API on the default bridge's gateway, as the portal's Hub is reached.
HUB_CONNECT_IP = os.environ.get("PORTAL_HUB_API_HOST", "172.17.0.1")
PASSWORD = "bench-hub-password"  # noqa: S105 - the dummy authenticator's test password
PREFIX = "bench-hub"
PEER_IMAGE_DOCKERFILE = """\
FROM {image}
RUN pip install --no-cache-dir {hub}
"""
TIMEOUT_S = 600

CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = {url!r}
c.JupyterHub.hub_ip = "0.0.0.0"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.hub_connect_ip = {connect_ip!r}
c.JupyterHub.cookie_secret_file = {state!r} + "/cookie_secret"
c.JupyterHub.db_url = "sqlite:///" + {state!r} + "/jupyterhub.sqlite"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = {state!r} + "/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.services = [{{"name": "bench", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "bench", "scopes": ["admin:users", "admin:servers"], "services": ["bench"]}}
]
c.JupyterHub.spawner_class = "docker"
c.DockerSpawner.image = {image!r}
# The image's entrypoint starts its own JupyterLab; the Hub needs jupyterhub-singleuser instead.
c.DockerSpawner.extra_create_kwargs = {{"entrypoint": ["/usr/bin/tini", "--"]}}
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.network_name = "bridge"
c.DockerSpawner.remove = True
c.DockerSpawner.prefix = {prefix!r}
c.DockerSpawner.name_template = "{{prefix}}-{{username}}"
c.DockerSpawner.notebook_dir = "/workspace"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
# Spawns in a burst are what is measured: none is refused for being concurrent.
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
"""


def ensure_venv() -> Path:
    """The bench's own virtualenv with the Hub and DockerSpawner, made on the first run."""
    hub = VENV / "bin" / "jupyterhub"
    if not hub.exists():
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        log = ROOT / "var" / "bench-venv-install.log"
        with open(log, "wb") as out:
            subprocess.run(
                [str(VENV / "bin" / "pip"), "install", "--disable-pip-version-check", *PACKAGES],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    return hub


def peer_image(docker_client, *, image: str) -> str:
    """`image` plus the Hub's single-user server, built once (then cached) as bench/peer-hub."""
    tag = f"bench/peer-hub:{image.rpartition('/')[2].replace(':', '-')}"
    dockerfile = PEER_IMAGE_DOCKERFILE.format(image=image, hub=PACKAGES[0]).encode()
    docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, pull=False)
    return tag


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PeerHub:
    def __init__(self, *, image: str, state_dir: Path):
        self.image = image
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{free_port()}"
        self.token = secrets.token_hex(32)
        self.log_path = ROOT / "var" / "bench" / "peer-hub.log"
        self.process: subprocess.Popen | None = None
        self.api = direct_session()
        self.api.headers["Authorization"] = f"token {self.token}"

    def start(self, seconds: float = 120) -> "PeerHub":
        hub = ensure_venv()
        config = self.state_dir / "jupyterhub_config.py"
        # Free on their own addresses, each: the Hub binds 0.0.0.0, so its port must also differ
        # from the proxy's API port on 127.0.0.1 (the same number came up once).
        proxy_api_port = free_port()
        hub_port = free_port(HUB_CONNECT_IP)
        while hub_port == proxy_api_port or f":{hub_port}" in self.url:
            hub_port = free_port(HUB_CONNECT_IP)
        config.write_text(
            CONFIG.format(
                url=self.url,
                hub_port=hub_port,
                connect_ip=HUB_CONNECT_IP,
                state=str(self.state_dir),
                chp=str(CHP),
                proxy_api_port=proxy_api_port,
                password=PASSWORD,
                token=self.token,
                image=self.image,
                prefix=PREFIX,
            )
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(hub), "-f", str(config)],
                cwd=self.state_dir,
                env={**os.environ, "PATH": f"{hub.parent}:{os.environ['PATH']}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_serving(self.process, self._answers, what="JupyterHub", log=self.log_path, seconds=seconds)
        return self

    def _answers(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return self.api.get(f"{self.url}/hub/api/", timeout=2).status_code == 200
        return False

    def stop(self) -> None:
        stop_group(self.process)

    def users(self, names: list[str]) -> None:
        answer = self.api.post(f"{self.url}/hub/api/users", json={"usernames": names}, timeout=30)
        if answer.status_code not in (201, 409):
            answer.raise_for_status()

    def spawn(self, *, count: int, tag: str) -> float:
        """`count` spawn calls at once; seconds until every server answers through the proxy."""
        names = [f"{tag}{i}" for i in range(count)]
        self.users(names)
        started = time.monotonic()
        deadline = started + TIMEOUT_S

        def one(name: str) -> float:
            answer = self.api.post(f"{self.url}/hub/api/users/{name}/server", timeout=TIMEOUT_S)
            if answer.status_code not in (201, 202):
                raise RuntimeError(f"spawn of {name}: {answer.status_code} {answer.text}")
            return wait_until_answers(direct_session(), f"{self.url}/user/{name}/api", deadline=deadline)

        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                answered = list(pool.map(one, names))
            cpu.answered()
            return max(answered) - started
        finally:
            self.stop_servers(names)

    def stop_servers(self, names: list[str]) -> None:
        for name in names:
            self.api.delete(f"{self.url}/hub/api/users/{name}/server", timeout=TIMEOUT_S)
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            listed = self.api.get(f"{self.url}/hub/api/users", timeout=30).json()
            if not any(u["servers"] for u in listed if u["name"] in names):
                return
            time.sleep(0.5)
