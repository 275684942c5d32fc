"""Jobs against the fake engine: what each node is told to run (environment, hostfile, user,
workspace), how exit codes, logs and cancels become the job's outcome."""

from datetime import timedelta

import pytest

from provisioning.errors import InvalidRequest, StateConflict
from provisioning.models import Job, JobNode, JobStatus
from provisioning.selectors import job_node_log
from provisioning.services import jobs as job_services
from provisioning.services.jobs import job_advance, job_cancel, job_create
from provisioning.services.sandboxes import sandbox_create, sandbox_resize, sandbox_stop
from provisioning.sshkeys import ssh_public_key
from provisioning.tests.doubles import JobProcesses, hostname_of, node_container
from provisioning.tests.lifecycle import run


def launches(engine) -> dict[str, dict]:
    """The detached command each container was given, by node name."""
    return {hostname_of(r["container"]): r for r in engine.execs.values() if r["command"][0] == "setsid"}


def prepared_hostfiles(engine) -> set[str]:
    return {r["command"][5] for r in engine.execs.values() if r["command"][2:3] == [job_services._PREPARE]}


def test_each_node_runs_as_the_user_in_the_workspace_with_the_cluster_as_it_is_now(member, cluster, engine):
    JobProcesses(engine)
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
    head_spec = engine.containers[node_container(cluster, "head-0")]["spec"].environment
    assert head_spec["WORLD_SIZE"] == "3"  # why jobs do not trust the container's environment


def test_a_role_job_ranks_its_own_nodes(member, cluster, engine):
    JobProcesses(engine)
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
    nodes = JobProcesses(engine)
    job = job_create(sandbox=cluster, actor=member, command="train")
    assert job_advance(job_id=job.pk).again_in is not None
    nodes.end(node_container(cluster, "head-0"), exit_code=0, log=b"ok\n")
    nodes.end(node_container(cluster, "worker-0"), exit_code=3, log="données\nboom\n".encode())
    assert job_advance(job_id=job.pk).again_in is not None  # worker-1 still runs
    nodes.end(node_container(cluster, "worker-1"), exit_code=0)
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
    nodes = JobProcesses(engine)
    job = job_create(sandbox=cluster, actor=member, command="seq", target="head")
    job_advance(job_id=job.pk)
    nodes.end(node_container(cluster, "head-0"), exit_code=0, log=b"1\n2\n3\n4\n5\n")
    outcomes = [job_advance(job_id=job.pk).again_in for _ in range(3)]
    assert outcomes == [1.0, 1.0, None]  # done only once the whole log is in
    process = JobNode.objects.get(job=job)
    assert (process.log, process.log_dropped, process.log_read_bytes) == ("3\n4\n5\n", 4, 10)
    assert job_node_log(process=process, offset=None) == ("3\n4\n5\n", 10)
    assert job_node_log(process=process, offset=8) == ("5\n", 10)
    assert job_node_log(process=process, offset=0) == ("3\n4\n5\n", 10)  # what is kept of it


def test_cancel_terminates_every_node_then_kills_what_ignores_it(member, cluster, engine):
    nodes = JobProcesses(engine)
    job = job_create(sandbox=cluster, actor=member, command="sleep 600")
    job_advance(job_id=job.pk)
    nodes.ignores_term.add(node_container(cluster, "worker-1"))

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
    node = engine.containers[node_container(cluster, "worker-1")]
    # The private key is a file only the node's user may read, never a variable.
    assert node["secret_files"]["ssh_private_key"] == (cluster.ssh_private_key, "1000:1000")
    env = node["spec"].environment
    assert cluster.ssh_private_key not in str(env)
    assert env["SANDBOX_SSH_AUTHORIZED_KEY"] == ssh_public_key(
        cluster.ssh_private_key, comment=f"sandbox-{cluster.pk}"
    )


def test_the_reconciler_hands_over_jobs_nobody_follows(member, cluster, engine):
    job_create(sandbox=cluster, actor=member, command="true")  # followed: advanced just now
    lost = job_create(sandbox=cluster, actor=member, command="true")
    done = job_create(sandbox=cluster, actor=member, command="true")
    long_ago = lost.updated - timedelta(minutes=5)
    Job.objects.filter(pk=lost.pk).update(updated=long_ago)
    Job.objects.filter(pk=done.pk).update(updated=long_ago, status=JobStatus.SUCCEEDED)
    assert job_services.jobs_resume() == [lost.pk]  # not the followed one, nor the finished one
