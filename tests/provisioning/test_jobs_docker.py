"""Jobs on a real three-node pytorch-ddp sandbox, carried out by a real Celery worker: SSH among
the nodes, the validation job (all-reduce and a short DDP training), a command that fails on one
node, and a cancel that stops every node's process while the sandbox stays usable. One sandbox
serves every case: starting a cluster is the slow part."""

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from provisioning.models import Sandbox
from provisioning.naming import sandbox_prefix
from provisioning.services.datataps import datatap_create, hostpath_prefix_add
from tenants.models import Membership, Tenant, User
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}


def wait_for_job(client, job_id, wanted, *, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/jobs/{job_id}/").json()
        if body["status"] in wanted:
            return body
        time.sleep(0.5)
    raise AssertionError(f"job stayed {body['status']}, wanted {wanted}: {json.dumps(body)[:3000]}")


def run_job(client, sandbox_id, command, nodes="all"):
    created = client.post(
        f"/api/v1/sandboxes/{sandbox_id}/jobs/", {"command": command, "nodes": nodes}, format="json"
    )
    assert created.status_code == 202, created.json()
    return created.json()


def by_node(job) -> dict:
    return {n["node"]: n for n in job["nodes"]}


def processes(container, pattern: str) -> str:
    found = container.exec_run(["pgrep", "-a", "-f", pattern])
    return found.output.decode() if found.exit_code == 0 else ""


@pytest.fixture
def training_data(team):
    """A DataTap of the tenant holding a CSV of 4 separable classes, as a site shares a data set."""
    tenant, _user, _client = team
    root = Path(tempfile.mkdtemp(prefix="portal-jobs-test-", dir="/tmp"))
    root.chmod(0o755)  # the node's user is not root
    rng = random.Random(0)
    weights = [[rng.gauss(0, 1) for _ in range(4)] for _ in range(8)]
    rows = ["f0,f1,f2,f3,f4,f5,f6,f7,label"]
    for _ in range(600):
        x = [rng.gauss(0, 1) for _ in range(8)]
        scores = [sum(x[i] * weights[i][c] for i in range(8)) for c in range(4)]
        rows.append(",".join(f"{v:.4f}" for v in x) + f",{scores.index(max(scores))}")
    (root / "points.csv").write_text("\n".join(rows) + "\n")
    (root / "points.csv").chmod(0o644)
    admin = User.objects.create_user(username="site", password="not-used-here", is_site_admin=True)
    hostpath_prefix_add(actor=admin, path=str(root))
    datatap_create(actor=admin, tenant=tenant, name="train", kind="hostpath", path=str(root))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_jobs_on_a_three_node_cluster(team, training_data, published, celery_worker_process, docker_client):
    _tenant, _user, client = team
    published("pytorch-ddp")
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "ddp",
            "catalog_item": "pytorch-ddp",
            "flavor": "small",
            "nodes": {"worker": 2},
            "datataps": ["train"],
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    body = wait_for_status(client, sandbox_id, {"running"})
    assert "PRIVATE KEY" not in json.dumps(body)
    containers = {
        name: docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-{name}")
        for name in ("head-0", "worker-0", "worker-1")
    }

    # Passwordless SSH among the nodes as the user, and the job's distributed environment.
    ssh = run_job(
        client,
        sandbox_id,
        'ssh -p 2222 worker-0 hostname; ssh worker-1 whoami; cat "$SANDBOX_HOSTFILE"; pwd; '
        'echo "world=$WORLD_SIZE rank=$RANK master=$MASTER_ADDR"',
        nodes="head",
    )
    ssh = wait_for_job(client, ssh["id"], {"succeeded", "failed"})
    head_log = by_node(ssh)["head-0"]["log"]
    assert ssh["status"] == "succeeded", ssh
    assert list(by_node(ssh)) == ["head-0"]
    assert head_log.splitlines() == [
        "worker-0",
        "scientist",
        "head-0 slots=1",
        "worker-0 slots=1",
        "worker-1 slots=1",
        "/workspace",
        "world=1 rank=0 master=head-0",
    ]

    # The validation job: all-reduce numbers and a DDP training, on the DataTap's data, whose
    # loss goes down.
    made = client.post(
        f"/api/v1/sandboxes/{sandbox_id}/jobs/validation/", {"datatap": "train"}, format="json"
    )
    assert made.status_code == 202, made.json()
    validation = wait_for_job(client, made.json()["id"], {"succeeded", "failed"}, seconds=300)
    assert validation["status"] == "succeeded", validation
    assert validation["kind"] == "validation"
    nodes = by_node(validation)
    assert sorted(nodes) == ["head-0", "worker-0", "worker-1"]
    for rank, name in enumerate(["head-0", "worker-0", "worker-1"]):
        assert nodes[name]["exit_code"] == 0
        assert f"[rank {rank}] all-reduce latency" in nodes[name]["log"]
        assert f"[rank {rank}] epoch 5/5" in nodes[name]["log"]
    result = validation["result"]
    assert (result["backend"], result["world_size"]) == ("gloo", 3)
    assert result["allreduce_latency_us"] > 0
    assert [b["bytes"] for b in result["allreduce_bandwidth"]] == [1 << 20, 16 << 20]
    assert all(b["busbw_gbps"] > 0 for b in result["allreduce_bandwidth"])
    assert result["loss_last"] < result["loss_first"]
    assert (result["data"], result["samples"]) == ("/data/train/points.csv", 600)
    # Incremental reads: from a former log_end on, only what came after (here: nothing).
    end = nodes["worker-1"]["log_end"]
    again = client.get(f"/api/v1/jobs/{validation['id']}/?offset={end}").json()
    assert by_node(again)["worker-1"]["log"] == ""
    assert by_node(again)["worker-1"]["log_start"] == end

    # A command that fails on one node: its exit code and log, and the job is failed.
    failing = run_job(client, sandbox_id, 'echo "rank $RANK on $(hostname)"; test "$RANK" != 1')
    failing = wait_for_job(client, failing["id"], {"succeeded", "failed"})
    nodes = by_node(failing)
    assert failing["status"] == "failed"
    assert {name: n["exit_code"] for name, n in nodes.items()} == {"head-0": 0, "worker-0": 1, "worker-1": 0}
    assert nodes["worker-0"]["status"] == "failed"
    assert nodes["worker-0"]["log"] == "rank 1 on worker-0\n"
    assert nodes["worker-1"]["log"] == "rank 2 on worker-1\n"
    assert "worker-0 (exit code 1)" in failing["explanation"]
    assert "1 of 3 nodes" in failing["explanation"]

    # Another tenant sees neither the jobs nor the sandbox.
    stranger = User.objects.create_user(username="eve", password="not-used-here")
    Membership.objects.create(
        user=stranger, tenant=Tenant.objects.create(slug="other", name="Other"), role=Membership.Role.ADMIN
    )
    outsider = APIClient()
    outsider.force_authenticate(stranger)
    assert outsider.get(f"/api/v1/jobs/{failing['id']}/").status_code == 404
    assert outsider.post(f"/api/v1/jobs/{failing['id']}/cancel/").status_code == 404
    assert (
        outsider.post(f"/api/v1/sandboxes/{sandbox_id}/jobs/", {"command": "id"}, format="json").status_code
        == 404
    )

    # A job cancelled midway stops on every node; the sandbox stays running and runs the next one.
    long = run_job(client, sandbox_id, "echo started; sleep 600")
    deadline = time.monotonic() + 60
    while not all(n["log"] == "started\n" for n in client.get(f"/api/v1/jobs/{long['id']}/").json()["nodes"]):
        assert time.monotonic() < deadline, "the long job did not start on every node"
        time.sleep(0.3)
    assert all(processes(c, "sleep 600") for c in containers.values())
    cancel = client.post(f"/api/v1/jobs/{long['id']}/cancel/")
    assert cancel.status_code == 202, cancel.json()
    cancelled = wait_for_job(client, long["id"], {"succeeded", "failed", "cancelled"}, seconds=60)
    assert cancelled["status"] == "cancelled"
    assert {n["status"] for n in cancelled["nodes"]} == {"cancelled"}
    assert {name: processes(c, "sleep 600") for name, c in containers.items()} == {
        "head-0": "",
        "worker-0": "",
        "worker-1": "",
    }
    assert client.post(f"/api/v1/jobs/{long['id']}/cancel/").status_code == 409
    assert client.get(f"/api/v1/sandboxes/{sandbox_id}/").json()["status"] == "running"
    after = wait_for_job(client, run_job(client, sandbox_id, "echo again")["id"], {"succeeded", "failed"})
    assert after["status"] == "succeeded"
    assert {n["log"] for n in after["nodes"]} == {"again\n"}

    listed = client.get(f"/api/v1/sandboxes/{sandbox_id}/jobs/").json()
    assert [j["id"] for j in listed["results"]] == [
        after["id"],
        long["id"],
        failing["id"],
        validation["id"],
        ssh["id"],
    ]

    # A job needs a running sandbox; the SSH key goes with the sandbox's containers.
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})
    refused = client.post(f"/api/v1/sandboxes/{sandbox_id}/jobs/", {"command": "true"}, format="json")
    assert refused.status_code == 409
    assert "stopped" in refused.json()["detail"]
    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert Sandbox.objects.get(pk=sandbox_id).ssh_private_key == ""
