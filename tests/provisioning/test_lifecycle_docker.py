"""Sandboxes through their whole lifecycle on the real Docker engine, driven through the API
and carried out by a real Celery worker."""

import pytest

from provisioning.naming import sandbox_prefix
from tenants.selectors.usage import tenant_usage
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}


def test_one_node_sandbox_lifecycle(team, published, celery_worker_process, docker_client):
    tenant, _user, client = team
    published("python-minimal")

    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "quick", "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    body = wait_for_status(client, sandbox_id, {"running"})
    assert [(n["name"], n["status"], n["host"]) for n in body["nodes"]] == [("head-0", "running", "local")]
    operation = client.get(f"/api/v1/sandboxes/{sandbox_id}/operations/").json()["results"][0]
    assert operation["status"] == "succeeded"
    assert operation["progress"] == {"done": 1, "total": 1, "message": "1 of 1 nodes running"}

    container = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")
    container.exec_run(["sh", "-c", "echo kept > /workspace/note.txt"])
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})
    container.reload()
    assert container.status == "exited"
    assert tenant_usage(tenant=tenant).cpus == 0

    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    wait_for_status(client, sandbox_id, {"running"})
    assert container.exec_run(["cat", "/workspace/note.txt"]).output == b"kept\n"

    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert tenant_usage(tenant=tenant).as_dict() == {
        "cpus": 0,
        "memory_mib": 0,
        "gpus": 0,
        "storage_gib": 0,
        "sandboxes": 0,
    }


def test_three_node_cluster_lifecycle_with_resize(team, published, celery_worker_process, docker_client):
    tenant, _user, client = team
    published("pytorch-ddp")

    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "ddp",
            "catalog_item": "pytorch-ddp",
            "flavor": "small",
            "nodes": {"worker": 2},
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    body = wait_for_status(client, sandbox_id, {"running"})
    assert sorted(n["name"] for n in body["nodes"]) == ["head-0", "worker-0", "worker-1"]
    head = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")
    # The nodes find each other by name on the sandbox network.
    ping = head.exec_run(["python3", "-c", "import socket; print(socket.gethostbyname('worker-1'))"])
    assert ping.exit_code == 0, ping.output
    env = dict(line.split("=", 1) for line in head.attrs["Config"]["Env"])
    assert (env["MASTER_ADDR"], env["WORLD_SIZE"], env["NODE_RANK"], env["RANK"]) == ("head-0", "3", "0", "0")

    assert (
        client.post(
            f"/api/v1/sandboxes/{sandbox_id}/resize/", {"nodes": {"worker": 1}}, format="json"
        ).status_code
        == 202
    )
    body = wait_for_status(client, sandbox_id, {"running"}, seconds=120)
    body = wait_for_status(client, sandbox_id, {"running"})
    assert sorted(n["name"] for n in body["nodes"]) == ["head-0", "worker-0"]
    assert tenant_usage(tenant=tenant).cpus == 2

    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    wait_for_status(client, sandbox_id, {"running"})

    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert tenant_usage(tenant=tenant).sandboxes == 0


def test_hardening_of_every_node(team, published, celery_worker_process, docker_client):
    _tenant, _user, client = team
    published("python-minimal")
    sandbox_id = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "hard", "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    ).json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    container = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")

    host_config = container.attrs["HostConfig"]
    assert host_config["Privileged"] is False
    assert host_config["CapDrop"] == ["ALL"] and not host_config["CapAdd"]
    assert "no-new-privileges:true" in host_config["SecurityOpt"]
    assert host_config["NanoCpus"] == 1_000_000_000
    assert host_config["Memory"] == host_config["MemorySwap"] == 2048 * 1024 * 1024
    assert host_config["PidsLimit"] == 1024
    assert container.attrs["Config"]["User"] == "1000:1000"
    assert [m["Type"] for m in container.attrs["Mounts"]] == ["volume"]  # no host paths, no socket
    status = container.exec_run(["cat", "/proc/self/status"]).output.decode()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["CapEff"].strip() == "0000000000000000"
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Uid"].split()[0] == "1000"

    client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    wait_for_status(client, sandbox_id, {"deleted"})
