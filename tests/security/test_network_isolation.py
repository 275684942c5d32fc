"""Code in a node is untrusted: from inside a real node, try to connect to another sandbox's
node, to the platform's services (PostgreSQL, Redis, the registry) on every address of this
machine, and to every Docker engine API. None may answer. A listener the test opens on this
machine, and the node's own service, do answer: the probe itself sees open ports."""

import ipaddress
import json
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from provisioning.naming import sandbox_prefix
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "deploy" / "netns_host.sh"
ENGINE, INDEX = "secnet", 4  # an engine in a namespace, reached over TCP as a remote host is
SERVICE_PORTS = {5432: "PostgreSQL", 6379: "Redis", 5000: "registry", 2375: "Docker API", 2376: "Docker API (TLS)"}
# Runs inside the node: connects to each target and says what happened.
PROBE = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor

def attempt(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1.5).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return type(exc).__name__

targets = json.loads(sys.argv[1])
with ThreadPoolExecutor(len(targets)) as pool:
    print(json.dumps(dict(zip(targets, pool.map(attempt, targets)))))
"""


def host_addresses() -> list[str]:
    """Every IPv4 address of this machine but loopback: eth0, docker0, each bridge gateway."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], check=True, capture_output=True, text=True).stdout
    addresses = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return [a for a in addresses if not ipaddress.ip_address(a).is_loopback]


def probe(docker_client, container: str, targets: list[str]) -> dict[str, str]:
    result = docker_client.containers.get(container).exec_run(["python3", "-c", PROBE, json.dumps(targets)])
    assert result.exit_code == 0, result.output.decode()
    return json.loads(result.output.decode().strip().splitlines()[-1])


@pytest.fixture
def netns_engine():
    url = subprocess.run(
        ["bash", str(SCRIPT), "up", ENGINE, str(INDEX)], check=True, capture_output=True, text=True
    ).stdout.strip()
    yield url
    subprocess.run(["bash", str(SCRIPT), "down", ENGINE, str(INDEX)], check=True, capture_output=True)


@pytest.fixture
def listener():
    """A port open on every address of this machine, as an unrelated service would be."""
    server = socket.socket()
    server.bind(("0.0.0.0", 0))  # noqa: S104 - the point is that it answers on every address
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_a_node_reaches_no_other_sandbox_no_platform_service_and_no_engine(
    team, published, celery_worker_process, docker_client, netns_engine, listener
):
    _tenant, _user, client = team
    published("python-minimal")
    ids = []
    for name in ("attacker", "victim"):
        response = client.post(
            "/api/v1/sandboxes/",
            {"tenant": "lab", "name": name, "catalog_item": "python-minimal", "flavor": "small"},
            format="json",
        )
        assert response.status_code == 202, response.json()
        ids.append(response.json()["id"])
    try:
        attacker, victim = (wait_for_status(client, i, {"running"}) for i in ids)
        attacker_node = f"{sandbox_prefix(attacker['id'])}-head-0"
        victim_node = f"{sandbox_prefix(victim['id'])}-head-0"
        node_port = 2222  # the image's SSH service, listening on every address of the node
        victim_ip = victim["nodes"][0]["ip"]
        engines = [
            f"{a}:2376" for a in host_addresses() if a.startswith("10.231.") and a.endswith(".1")
        ]
        engines = [e.replace(".1:", ".2:") for e in engines]
        assert f"10.231.{INDEX}.2:2376" in engines
        forbidden = [f"{victim_ip}:{node_port}", *engines]
        forbidden += [f"{a}:{p}" for a in host_addresses() for p in SERVICE_PORTS]

        seen = probe(docker_client, attacker_node, [*forbidden, f"{host_addresses()[0]}:{listener}"])

        # The probe does see an open port when there is one: the test's own listener.
        assert seen.pop(f"{host_addresses()[0]}:{listener}") == "open"
        assert probe(docker_client, victim_node, [f"127.0.0.1:{node_port}"]) == {f"127.0.0.1:{node_port}": "open"}
        reachable = sorted(target for target, outcome in seen.items() if outcome == "open")
        assert reachable == [], f"a node reaches {reachable}"
    finally:
        for sandbox_id in ids:
            client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
        for sandbox_id in ids:
            wait_for_status(client, sandbox_id, {"deleted"})
