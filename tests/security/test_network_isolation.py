"""Code in a node is untrusted: from inside a real node, try to connect to another sandbox's
node, to the platform's services (PostgreSQL, Redis, the registry) on every address of this
machine, and to every Docker engine API. None may answer. A listener the test opens on this
machine, and the node's own service, do answer: the probe itself sees open ports."""

import ipaddress
import json
import socket
import subprocess
from pathlib import Path

import docker
import pytest
from django.conf import settings

from provisioning.models import Host
from provisioning.naming import sandbox_prefix
from provisioning.services.hosts import host_inventory_refresh, host_register
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "deploy" / "netns_host.sh"
TLS = Path("/var/lib/portal/hosts/tls")
ENGINE, INDEX = "secnet", 4  # an engine in a namespace, reached over TCP as a remote host is
SERVICE_PORTS = {
    5432: "PostgreSQL",
    6379: "Redis",
    5000: "registry",
    2375: "Docker API",
    2376: "Docker API (TLS)",
}
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
def netns_engine(team, django_user_model):
    """An engine in a namespace of its own, registered as a host for sandboxes that ask for
    the label net=isolation."""
    url = subprocess.run(
        ["bash", str(SCRIPT), "up", ENGINE, str(INDEX)], check=True, capture_output=True, text=True
    ).stdout.strip()
    admin = django_user_model.objects.create_user(username="net-admin", is_site_admin=True)
    # The inventory a worker takes after registration, taken here.
    host = host_inventory_refresh(
        host=host_register(
            actor=admin,
            name=ENGINE,
            url=url,
            labels={"net": "isolation"},
            tls_ca_cert=(TLS / "ca.pem").read_text(),
            tls_client_cert=(TLS / "client-cert.pem").read_text(),
            tls_client_key=(TLS / "client-key.pem").read_text(),
        )
    )
    assert host.state == Host.State.READY, host.explanation
    client = docker.DockerClient(f"unix:///run/portal-hosts/{ENGINE}/docker.sock")
    yield client
    client.close()
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
    ids = {}
    Host.objects.filter(name="local").update(labels={"net": "local"})
    local_only, remote_only = {"net": "local"}, {"net": "isolation"}
    for name, labels in (("attacker", local_only), ("victim", local_only), ("remote", remote_only)):
        response = client.post(
            "/api/v1/sandboxes/",
            {
                "tenant": "lab",
                "name": name,
                "catalog_item": "python-minimal",
                "flavor": "small",
                "host_labels": labels,
            },
            format="json",
        )
        assert response.status_code == 202, response.json()
        ids[name] = response.json()["id"]
    try:
        bodies = {name: wait_for_status(client, i, {"running"}) for name, i in ids.items()}
        node = {name: f"{sandbox_prefix(i)}-head-0" for name, i in ids.items()}
        node_port = 2222  # the image's SSH service, listening on every address of the node
        addresses = host_addresses()
        engines = [
            f"{a[: -len('.1')]}.2:2376" for a in addresses if a.startswith("10.231.") and a.endswith(".1")
        ]
        assert f"10.231.{INDEX}.2:2376" in engines
        services = [f"{a}:{port}" for a in addresses for port in SERVICE_PORTS]
        victim = f"{bodies['victim']['nodes'][0]['ip']}:{node_port}"
        control = f"{addresses[0]}:{listener}"

        # The probe sees an open port when there is one: the test's own listener, and a node's
        # own service from inside it.
        assert probe(docker_client, node["victim"], [f"127.0.0.1:{node_port}"]) == {
            f"127.0.0.1:{node_port}": "open"
        }
        local = probe(docker_client, node["attacker"], [victim, *engines, *services, control])
        assert local.pop(control) == "open"
        # A node on the namespaced engine: its own engine's API, and this machine through it.
        remote = probe(netns_engine, node["remote"], [*engines, *services])

        for where, seen in (("local", local), ("remote", remote)):
            reachable = sorted(target for target, outcome in seen.items() if outcome == "open")
            assert reachable == [], f"a {where} node reaches {reachable}"
    finally:
        for sandbox_id in ids.values():
            client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
        for sandbox_id in ids.values():
            wait_for_status(client, sandbox_id, {"deleted"})
