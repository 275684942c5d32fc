"""The reconciler against fake engines: restart, orphans, unreachable hosts and recovery."""

from datetime import timedelta

from django.utils import timezone

from provisioning.drivers import NodeSpec
from provisioning.models import Host, NodeStatus, Operation, OperationStatus, SandboxStatus
from provisioning.naming import sandbox_prefix
from provisioning.services.reconciler import host_reconcile, operations_resume_stale
from provisioning.tests.lifecycle import create, run
from tenants.selectors.usage import tenant_usage


def running_sandbox(member, tenant):
    sandbox, operation = create(member, tenant)
    run(operation)
    sandbox.refresh_from_db()
    return sandbox


def test_a_lost_container_is_started_again(member, tenant, cluster_item, engine, fake_host):
    sandbox = running_sandbox(member, tenant)
    del engine.containers[f"{sandbox.resource_prefix}-worker-0"]

    drift = host_reconcile(host=fake_host)

    assert drift["restarted"] == 1
    assert engine.containers[f"{sandbox.resource_prefix}-worker-0"]["running"]


def test_orphans_are_removed(member, tenant, cluster_item, engine, fake_host):
    sandbox = running_sandbox(member, tenant)
    orphan = sandbox_prefix(999)
    engine.networks.add(f"{orphan}-net")
    engine.volumes[f"{orphan}-workspace"] = {}
    engine.containers[f"{orphan}-head-0"] = {
        "running": True,
        "spec": NodeSpec(
            name=f"{orphan}-head-0",
            hostname="head-0",
            image="x",
            network=f"{orphan}-net",
            user="1000:1000",
            labels={"org.sandbox-portal.sandbox": "999"},
            environment={},
            nano_cpus=1,
            memory_bytes=1,
        ),
    }

    drift = host_reconcile(host=fake_host)

    assert drift["orphans_removed"] == 3
    assert f"{orphan}-head-0" not in engine.containers
    assert engine.networks == {sandbox.network_name}
    assert set(engine.volumes) == {sandbox.workspace_volume}


def test_unreachable_host_makes_nodes_unknown_then_recovers(member, tenant, cluster_item, engine, fake_host):
    sandbox = running_sandbox(member, tenant)
    usage_before = tenant_usage(tenant=tenant)
    engine.reachable = False

    host_reconcile(host=fake_host)

    sandbox.refresh_from_db()
    fake_host.refresh_from_db()
    assert fake_host.state == Host.State.UNREACHABLE
    assert sandbox.status == SandboxStatus.UNKNOWN
    assert set(sandbox.nodes.values_list("status", flat=True)) == {NodeStatus.UNKNOWN}
    assert tenant_usage(tenant=tenant) == usage_before  # quota kept while we cannot tell

    engine.reachable = True
    drift = host_reconcile(host=fake_host)

    sandbox.refresh_from_db()
    fake_host.refresh_from_db()
    assert drift["recovered"] == 3
    assert fake_host.state == Host.State.READY
    assert sandbox.status == SandboxStatus.RUNNING
    assert set(sandbox.nodes.values_list("status", flat=True)) == {NodeStatus.RUNNING}


def test_stopped_sandboxes_stay_stopped(member, tenant, cluster_item, engine, fake_host):
    from provisioning.services.sandboxes import sandbox_stop

    sandbox = running_sandbox(member, tenant)
    run(sandbox_stop(sandbox=sandbox, actor=member))
    engine.containers[f"{sandbox.resource_prefix}-head-0"]["running"] = True  # started out of band

    drift = host_reconcile(host=fake_host)

    assert drift["stopped"] == 1
    assert not engine.containers[f"{sandbox.resource_prefix}-head-0"]["running"]


def test_busy_sandboxes_are_left_to_their_operation(member, tenant, cluster_item, slow_engine, fake_host):
    from provisioning.services.operations import operation_advance

    engine = slow_engine
    sandbox, operation = create(member, tenant)
    assert operation_advance(operation_id=operation.pk).again_in is not None  # nodes still starting

    drift = host_reconcile(host=fake_host)

    assert drift == {"restarted": 0, "stopped": 0, "orphans_removed": 0, "unknown": 0, "recovered": 0}
    assert len(engine.containers) == 3


def test_stale_operations_are_resumed(
    member, tenant, cluster_item, engine, django_capture_on_commit_callbacks
):
    sandbox, operation = create(member, tenant)
    Operation.objects.filter(pk=operation.pk).update(
        status=OperationStatus.RUNNING, updated=timezone.now() - timedelta(minutes=5)
    )

    with django_capture_on_commit_callbacks() as callbacks:
        resumed = operations_resume_stale()

    assert resumed == 1 and len(callbacks) == 1
    assert sandbox.operations.get().status == OperationStatus.RUNNING
