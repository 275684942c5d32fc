"""Issue 21, items 11 and 12 against the fake engine: a delete supersedes whatever operation is
under way and leaves nothing behind; stop and resize answer a clear retry while one is; a resize
that would remove a node running a job is refused, naming the job, unless forced."""

import pytest

from provisioning.errors import OperationUnderWay, StateConflict
from provisioning.models import Job, JobNode
from provisioning.services.jobs import job_advance, job_create
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import (
    sandbox_delete,
    sandbox_resize,
    sandbox_start,
    sandbox_stop,
)
from provisioning.states import JobStatus, NodeStatus, OperationStatus, SandboxStatus
from provisioning.tests.doubles import JobProcesses, SlowEngine, fake_engine_install, node_container
from provisioning.tests.lifecycle import create, run
from tenants.models import Allocation


def _nothing_left(engine, sandbox) -> None:
    assert engine.containers == {}
    assert not [n for n in engine.networks if str(sandbox.pk) in n]
    assert not [v for v in engine.volumes if str(sandbox.pk) in v]
    assert not Allocation.objects.filter(group=sandbox.ledger_group, ended__isnull=True).exists()


def test_issue21_item11_delete_while_pending_cancels_the_create(member, tenant, cluster_item, engine):
    sandbox, create_op = create(member, tenant)

    delete_op = sandbox_delete(sandbox=sandbox, actor=member)

    create_op.refresh_from_db()
    assert create_op.status == OperationStatus.CANCELLED
    assert "ada asked to delete" in create_op.explanation
    assert operation_advance(operation_id=create_op.pk).again_in is None  # its worker stops at once
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.DELETING
    assert run(delete_op).status == OperationStatus.SUCCEEDED
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.DELETED
    _nothing_left(engine, sandbox)


def test_issue21_item11_delete_while_provisioning_removes_what_the_create_made(
    member, tenant, cluster_item, fake_host
):
    engine = fake_engine_install(fake_host.url, SlowEngine(ready_after=3600))
    sandbox, create_op = create(member, tenant)
    assert operation_advance(operation_id=create_op.pk).again_in is not None  # containers made
    assert len(engine.containers) == 3

    delete_op = sandbox_delete(sandbox=sandbox, actor=member)
    assert operation_advance(operation_id=create_op.pk).again_in is None
    run(delete_op)

    create_op.refresh_from_db()
    sandbox.refresh_from_db()
    assert (create_op.status, sandbox.status) == (OperationStatus.CANCELLED, SandboxStatus.DELETED)
    assert set(sandbox.nodes.values_list("status", flat=True)) == {NodeStatus.DELETED}
    _nothing_left(engine, sandbox)


def test_issue21_item11_asking_twice_answers_the_delete_under_way(member, tenant, cluster_item, engine):
    sandbox, _create_op = create(member, tenant)
    first = sandbox_delete(sandbox=sandbox, actor=member)
    assert sandbox_delete(sandbox=sandbox, actor=member) == first
    run(first)
    with pytest.raises(StateConflict):
        sandbox_delete(sandbox=sandbox, actor=member)


@pytest.mark.parametrize(
    "act",
    [
        lambda sandbox, member: sandbox_stop(sandbox=sandbox, actor=member),
        lambda sandbox, member: sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 1}),
        lambda sandbox, member: sandbox_start(sandbox=sandbox, actor=member),
    ],
    ids=["stop", "resize", "start"],
)
def test_issue21_item11_stop_and_resize_while_busy_say_retry_after_the_operation(
    member, tenant, cluster_item, engine, act
):
    sandbox, create_op = create(member, tenant)

    with pytest.raises(OperationUnderWay) as refused:
        act(sandbox, member)

    assert refused.value.status == 409
    assert "its create operation is under way. Retry the" in refused.value.message
    assert f"/api/v1/operations/{create_op.pk}/" in refused.value.message
    assert refused.value.extra["operation"] == create_op.pk
    create_op.refresh_from_db()
    assert create_op.status == OperationStatus.PENDING  # nothing changed
    assert run(create_op).status == OperationStatus.SUCCEEDED


def _running_job_on_workers(cluster, member, engine) -> Job:
    JobProcesses(engine)
    job = job_create(sandbox=cluster, actor=member, command="python train.py")
    job_advance(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    return job


def test_issue21_item12_resize_down_under_a_running_job_is_refused_naming_it(cluster, member, engine):
    job = _running_job_on_workers(cluster, member, engine)

    with pytest.raises(StateConflict) as refused:
        sandbox_resize(sandbox=cluster, actor=member, nodes={"worker": 1})

    assert refused.value.status == 409
    assert f"Job {job.pk} ('python train.py') runs on a node this resize removes" in refused.value.message
    assert '"force": true' in refused.value.message
    assert refused.value.extra["jobs"] == [job.pk]
    cluster.refresh_from_db()
    assert cluster.status == SandboxStatus.RUNNING
    assert node_container(cluster, "worker-1") in engine.containers
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == (JobStatus.RUNNING, None)


def test_issue21_item12_forced_resize_cancels_the_job_first(cluster, member, engine):
    job = _running_job_on_workers(cluster, member, engine)

    operation = sandbox_resize(sandbox=cluster, actor=member, nodes={"worker": 1}, force=True)

    job.refresh_from_db()
    assert job.cancel_requested is not None
    run(operation)
    for _ in range(10):
        job_advance(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert node_container(cluster, "worker-1") not in engine.containers


def test_issue21_item12_resize_that_removes_no_job_node_needs_no_force(cluster, member, engine):
    job = _running_job_on_workers(cluster, member, engine)
    JobNode.objects.filter(job=job).exclude(node__role="head").delete()  # the job runs on head only

    run(sandbox_resize(sandbox=cluster, actor=member, nodes={"worker": 1}))

    job.refresh_from_db()
    assert job.cancel_requested is None
