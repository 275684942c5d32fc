"""Jobs against the fake engine: what each node is told to run (environment, hostfile, user,
workspace), how exit codes, logs and cancels become the job's outcome, and the API's rules."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from provisioning.errors import InvalidRequest, StateConflict
from provisioning.models import Job, JobNode, JobStatus
from provisioning.selectors import job_node_log
from provisioning.services import jobs as job_services
from provisioning.services.jobs import job_advance, job_cancel, job_create
from provisioning.services.sandboxes import sandbox_create, sandbox_resize, sandbox_stop
from provisioning.sshkeys import ssh_public_key
from provisioning.tests.test_lifecycle_fake import run
from tenants.models import Membership, Tenant, User


def hostname_of(container_name: str) -> str:
    return "-".join(container_name.rsplit("-", 2)[-2:])


class Nodes:
    """Plays the job's processes inside the fake containers: what the probe reads back and how
    each process takes a signal."""

    def __init__(self, engine):
        self.state: dict[str, str] = {}  # container name -> running | exit:N | gone
        self.logs: dict[str, bytes] = {}
        self.ignores_term: set[str] = set()
        self.signals: list[tuple[str, str]] = []
        engine.exec_responder = self.answer

    def answer(self, record):
        name, script, args = record["container"], record["command"][2], record["command"][4:]
        if script == job_services._PREPARE:
            self.state.setdefault(name, "running")
            return 0, ""
        if script == job_services._SIGNAL:
            self.signals.append((hostname_of(name), args[1]))
            if args[1] == "KILL" or name not in self.ignores_term:
                self.state[name] = "gone"
            return 0, ""
        assert script == job_services._PROBE
        log, offset, most = self.logs.get(name, b""), int(args[1]), int(args[2])
        chunk = log[offset : offset + most]
        return 0, f"{self.state[name]} {len(log)} {len(chunk)}\n{chunk.decode()}"

    def end(self, container: str, *, exit_code: int, log: bytes = b"") -> None:
        self.state[container], self.logs[container] = f"exit:{exit_code}", log


@pytest.fixture
def cluster(member, tenant, cluster_item, engine):
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small", nodes={"worker": 2}
    )
    run(sandbox.operations.get())
    sandbox.refresh_from_db()
    return sandbox


def container(sandbox, hostname: str) -> str:
    return f"{sandbox.resource_prefix}-{hostname}"


def launches(engine) -> dict[str, dict]:
    """The detached command each container was given, by node name."""
    return {hostname_of(r["container"]): r for r in engine.execs.values() if r["command"][0] == "setsid"}


def prepared_hostfiles(engine) -> set[str]:
    return {r["command"][5] for r in engine.execs.values() if r["command"][2:3] == [job_services._PREPARE]}


def test_each_node_runs_as_the_user_in_the_workspace_with_the_cluster_as_it_is_now(member, cluster, engine):
    Nodes(engine)
    job = job_create(sandbox=cluster, actor=member, command="python train.py")
    job_advance(job_id=job.pk)

    started = launches(engine)
    assert sorted(started) == ["head-0", "worker-0", "worker-1"]
    for rank, name in enumerate(["head-0", "worker-0", "worker-1"]):
        env = started[name]["environment"]
        assert (env["MASTER_ADDR"], env["WORLD_SIZE"], env["RANK"], env["NODE_RANK"]) == (
            "head-0",
            "3",
            str(rank),
            str(rank),
        )
        assert env["MASTER_PORT"] == str(Job.objects.get(pk=job.pk).master_port)
        assert env["OMP_NUM_THREADS"] == "1"  # the flavor's one CPU, not the host's cores
        assert (started[name]["user"], started[name]["workdir"]) == ("1000:1000", "/workspace")
        assert started[name]["command"][:2] == ["setsid", "-w"]  # its own process group, for cancel
    assert prepared_hostfiles(engine) == {"head-0 slots=1\nworker-0 slots=1\nworker-1 slots=1\n"}

    # After a resize, the next job sees the new cluster, not the containers' stale variables.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    run(sandbox_resize(sandbox=cluster, actor=member, nodes={"worker": 1}))
    engine.execs.clear()
    job_advance(job_id=job_create(sandbox=cluster, actor=member, command="python train.py").pk)
    started = launches(engine)
    assert sorted(started) == ["head-0", "worker-0"]
    assert [started[n]["environment"]["WORLD_SIZE"] for n in ("head-0", "worker-0")] == ["2", "2"]
    assert prepared_hostfiles(engine) == {"head-0 slots=1\nworker-0 slots=1\n"}
    head_spec = engine.containers[container(cluster, "head-0")]["spec"].environment
    assert head_spec["WORLD_SIZE"] == "3"  # why jobs do not trust the container's environment


def test_a_role_job_ranks_its_own_nodes(member, cluster, engine):
    Nodes(engine)
    job_advance(job_id=job_create(sandbox=cluster, actor=member, command="hostname", target="worker").pk)
    started = launches(engine)
    assert sorted(started) == ["worker-0", "worker-1"]
    assert [
        (started[n]["environment"]["RANK"], started[n]["environment"]["MASTER_ADDR"])
        for n in ("worker-0", "worker-1")
    ] == [
        ("0", "worker-0"),
        ("1", "worker-0"),
    ]
    # The hostfile is the whole cluster's: a launcher on one node reaches every node from it.
    assert prepared_hostfiles(engine) == {"head-0 slots=1\nworker-0 slots=1\nworker-1 slots=1\n"}


def test_a_node_that_fails_fails_the_job_and_is_named(member, cluster, engine):
    nodes = Nodes(engine)
    job = job_create(sandbox=cluster, actor=member, command="train")
    assert job_advance(job_id=job.pk).again_in is not None
    nodes.end(container(cluster, "head-0"), exit_code=0, log=b"ok\n")
    nodes.end(container(cluster, "worker-0"), exit_code=3, log="données\nboom\n".encode())
    assert job_advance(job_id=job.pk).again_in is not None  # worker-1 still runs
    nodes.end(container(cluster, "worker-1"), exit_code=0)
    assert job_advance(job_id=job.pk).again_in is None

    job.refresh_from_db()
    processes = {p.node.hostname: p for p in job.nodes.select_related("node")}
    assert job.status == JobStatus.FAILED
    assert job.explanation == "The command failed on 1 of 3 nodes: worker-0 (exit code 3)."
    assert (processes["worker-0"].exit_code, processes["worker-0"].log) == (3, "données\nboom\n")
    assert (processes["head-0"].status, processes["head-0"].log) == (JobStatus.SUCCEEDED, "ok\n")


def test_a_long_log_is_read_in_pieces_and_its_tail_kept(member, cluster, engine, monkeypatch):
    monkeypatch.setattr(job_services, "LOG_READ_BYTES", 4)
    monkeypatch.setattr(job_services, "LOG_KEEP_CHARS", 6)
    nodes = Nodes(engine)
    job = job_create(sandbox=cluster, actor=member, command="seq", target="head")
    job_advance(job_id=job.pk)
    nodes.end(container(cluster, "head-0"), exit_code=0, log=b"1\n2\n3\n4\n5\n")
    outcomes = [job_advance(job_id=job.pk).again_in for _ in range(3)]
    assert outcomes == [1.0, 1.0, None]  # done only once the whole log is in
    process = JobNode.objects.get(job=job)
    assert (process.log, process.log_dropped, process.log_read_bytes) == ("3\n4\n5\n", 4, 10)
    assert job_node_log(process=process, offset=None) == ("3\n4\n5\n", 10)
    assert job_node_log(process=process, offset=8) == ("5\n", 10)
    assert job_node_log(process=process, offset=0) == ("3\n4\n5\n", 10)  # what is kept of it


def test_cancel_terminates_every_node_then_kills_what_ignores_it(member, cluster, engine):
    nodes = Nodes(engine)
    job = job_create(sandbox=cluster, actor=member, command="sleep 600")
    job_advance(job_id=job.pk)
    nodes.ignores_term.add(container(cluster, "worker-1"))

    job = job_cancel(job=job, actor=member)
    assert job_advance(job_id=job.pk).again_in is not None
    assert sorted(nodes.signals) == [("head-0", "TERM"), ("worker-0", "TERM"), ("worker-1", "TERM")]
    job_advance(job_id=job.pk)  # head-0 and worker-0 are gone; worker-1 gets TERM again
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING

    Job.objects.filter(pk=job.pk).update(cancel_requested=job.cancel_requested - timedelta(seconds=10))
    job_advance(job_id=job.pk)
    assert nodes.signals[-1] == ("worker-1", "KILL")
    assert job_advance(job_id=job.pk).again_in is None
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert set(job.nodes.values_list("status", flat=True)) == {JobStatus.CANCELLED}
    with pytest.raises(StateConflict):
        job_cancel(job=job, actor=member)


def test_a_job_cancelled_before_it_started_runs_nowhere(member, cluster, engine):
    job = job_create(sandbox=cluster, actor=member, command="true")
    job_cancel(job=job, actor=member)
    assert job_advance(job_id=job.pk).again_in is None
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert engine.execs == {}


def test_bad_requests_change_nothing(member, cluster, engine):
    with pytest.raises(InvalidRequest, match="command"):
        job_create(sandbox=cluster, actor=member, command="   ")
    with pytest.raises(InvalidRequest, match="head, worker"):
        job_create(sandbox=cluster, actor=member, command="true", target="gpu")
    run(sandbox_stop(sandbox=cluster, actor=member))
    with pytest.raises(StateConflict, match="is stopped"):
        job_create(sandbox=cluster, actor=member, command="true")
    assert not Job.objects.exists()


def test_every_sandbox_has_its_own_key_and_its_nodes_get_it(member, tenant, cluster, engine):
    other = sandbox_create(owner=member, tenant=tenant, name="other", catalog_item="cluster", flavor="small")
    assert cluster.ssh_private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert cluster.ssh_private_key != other.ssh_private_key
    node = engine.containers[container(cluster, "worker-1")]
    # The private key is a file only the node's user may read, never a variable.
    assert node["secret_files"]["ssh_private_key"] == (cluster.ssh_private_key, "1000:1000")
    env = node["spec"].environment
    assert cluster.ssh_private_key not in str(env)
    assert env["SANDBOX_SSH_AUTHORIZED_KEY"] == ssh_public_key(
        cluster.ssh_private_key, comment=f"sandbox-{cluster.pk}"
    )


def test_api_scopes_jobs_to_the_tenant_and_its_managers(member, tenant, cluster, engine):
    owner = APIClient()
    owner.force_authenticate(member)
    made = owner.post(
        f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "hostname", "nodes": "head"}, format="json"
    )
    assert made.status_code == 202, made.json()
    body = made.json()
    assert (body["status"], body["target"], [n["node"] for n in body["nodes"]]) == (
        "pending",
        "head",
        ["head-0"],
    )
    assert "PRIVATE KEY" not in json.dumps(owner.get(f"/api/v1/sandboxes/{cluster.pk}/").json())

    colleague = User.objects.create_user(username="bob", password="unused")
    Membership.objects.create(user=colleague, tenant=tenant, role=Membership.Role.MEMBER)
    as_colleague = APIClient()
    as_colleague.force_authenticate(colleague)
    assert as_colleague.get(f"/api/v1/jobs/{body['id']}/").status_code == 200
    refused = as_colleague.post(f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id"}, format="json")
    assert refused.status_code == 403
    assert as_colleague.post(f"/api/v1/jobs/{body['id']}/cancel/").status_code == 403

    stranger = User.objects.create_user(username="eve", password="unused")
    Membership.objects.create(
        user=stranger, tenant=Tenant.objects.create(slug="other", name="Other"), role="admin"
    )
    as_stranger = APIClient()
    as_stranger.force_authenticate(stranger)
    assert as_stranger.get(f"/api/v1/jobs/{body['id']}/").status_code == 404
    assert as_stranger.get(f"/api/v1/sandboxes/{cluster.pk}/jobs/").status_code == 404
    assert (
        as_stranger.post(
            f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id"}, format="json"
        ).status_code
        == 404
    )

    bad = owner.post(
        f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id", "nodes": "gpu"}, format="json"
    )
    assert bad.status_code == 400 and "nodes" in bad.json()
    assert owner.get(f"/api/v1/jobs/{body['id']}/?offset=x").status_code == 400
    # This catalog item ships no validation job.
    assert (
        owner.post(f"/api/v1/sandboxes/{cluster.pk}/jobs/validation/", {}, format="json").status_code == 409
    )
    assert owner.post(f"/api/v1/jobs/{body['id']}/cancel/").status_code == 202
    assert Job.objects.get(pk=body["id"]).cancel_requested is not None


def test_sandbox_page_runs_jobs_and_shows_the_validation_result(member, cluster, engine, client):
    cluster.catalog_item.manifest["environment"] = {"VALIDATION_JOB": "python /opt/sandbox/validate.py"}
    cluster.catalog_item.save()
    client.force_login(member)
    panel = client.get(f"/sandboxes/{cluster.pk}/jobs/").content.decode()
    assert "No jobs yet." in panel
    assert "Run the validation job" in panel

    assert client.post(f"/sandboxes/{cluster.pk}/jobs/validate/").status_code == 302
    validation = Job.objects.get()
    assert (validation.kind, validation.command) == (Job.Kind.VALIDATION, "python /opt/sandbox/validate.py")
    nodes = Nodes(engine)
    job_advance(job_id=validation.pk)
    result = {"backend": "gloo", "world_size": 3, "nodes": 3, "allreduce_latency_us": 812.5, "epochs": 5}
    result |= {"allreduce_bandwidth": [{"bytes": 1048576, "algbw_gbps": 0.21, "busbw_gbps": 0.28}]}
    result |= {"samples": 2048, "data": "generated", "loss_first": 1.2, "loss_last": 0.3}
    head_log = f"[rank 0] epoch 5/5\n{job_services.VALIDATION_RESULT_MARK}{json.dumps(result)}\n".encode()
    nodes.end(container(cluster, "head-0"), exit_code=0, log=head_log)
    for name in ("worker-0", "worker-1"):
        nodes.end(container(cluster, name), exit_code=0, log=b"[rank 1] epoch 5/5\n")
    assert job_advance(job_id=validation.pk).again_in is None
    validation.refresh_from_db()
    assert (validation.status, validation.result) == (JobStatus.SUCCEEDED, result)

    panel = client.get(f"/sandboxes/{cluster.pk}/jobs/").content.decode()
    assert "812.5 µs" in panel
    assert "1.2 → 0.3" in panel
    page = client.get(f"/jobs/{validation.pk}/").content.decode()
    assert "[rank 0] epoch 5/5" in page
    assert "succeeded" in page

    assert (
        client.post(
            f"/sandboxes/{cluster.pk}/jobs/run/", {"command": "sleep 60", "nodes": "worker"}
        ).status_code
        == 302
    )
    running = Job.objects.exclude(pk=validation.pk).get()
    assert (running.command, running.target) == ("sleep 60", "worker")
    assert client.post(f"/jobs/{running.pk}/cancel/").status_code == 302
    assert Job.objects.get(pk=running.pk).cancel_requested is not None


def test_the_reconciler_hands_over_jobs_nobody_follows(member, cluster, engine):
    job_create(sandbox=cluster, actor=member, command="true")  # followed: advanced just now
    lost = job_create(sandbox=cluster, actor=member, command="true")
    done = job_create(sandbox=cluster, actor=member, command="true")
    long_ago = lost.updated - timedelta(minutes=5)
    Job.objects.filter(pk=lost.pk).update(updated=long_ago)
    Job.objects.filter(pk=done.pk).update(updated=long_ago, status=JobStatus.SUCCEEDED)
    assert job_services.jobs_resume() == [lost.pk]  # not the followed one, nor the finished one
