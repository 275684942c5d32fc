"""The sandbox lifecycle against the fake engine: services, operations and quota together."""

from datetime import timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time

from provisioning.errors import InvalidRequest, NoCapacity, StateConflict
from provisioning.models import NodeStatus, OperationStatus, SandboxStatus
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import (
    sandbox_delete,
    sandbox_resize,
    sandbox_start,
    sandbox_stop,
)
from provisioning.tests.lifecycle import create, run
from tenants.resources import QuotaExceeded
from tenants.selectors.usage import tenant_usage


def test_create_runs_every_node_and_reserves_quota(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)

    assert sandbox.status == SandboxStatus.PENDING
    assert tenant_usage(tenant=tenant).cpus == Decimal("3")
    run(operation)

    sandbox.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED
    assert (operation.progress_done, operation.progress_total) == (3, 3)
    assert operation.progress_message == "3 of 3 nodes running"
    assert sandbox.status == SandboxStatus.RUNNING
    assert sorted(n.hostname for n in sandbox.nodes.all()) == ["head-0", "worker-0", "worker-1"]
    assert set(engine.containers) == {
        f"{sandbox.resource_prefix}-head-0",
        f"{sandbox.resource_prefix}-worker-0",
        f"{sandbox.resource_prefix}-worker-1",
    }
    usage = tenant_usage(tenant=tenant)
    assert (usage.cpus, usage.memory_mib, usage.sandboxes, usage.storage_gib) == (3, 6144, 1, 10)


def test_distributed_environment(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    envs = {name: c["spec"].environment for name, c in engine.containers.items()}
    head = envs[f"{sandbox.resource_prefix}-head-0"]
    worker = envs[f"{sandbox.resource_prefix}-worker-1"]
    assert (head["MASTER_ADDR"], head["WORLD_SIZE"], head["NODE_RANK"], head["RANK"]) == (
        "head-0",
        "3",
        "0",
        "0",
    )
    assert (worker["NODE_RANK"], worker["RANK"]) == ("2", "2")


def test_stop_releases_compute_and_keeps_workspace(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    run(sandbox_stop(sandbox=sandbox, actor=member))

    sandbox.refresh_from_db()
    usage = tenant_usage(tenant=tenant)
    assert sandbox.status == SandboxStatus.STOPPED
    assert (usage.cpus, usage.memory_mib, usage.sandboxes, usage.storage_gib) == (0, 0, 1, 10)
    assert not any(c["running"] for c in engine.containers.values())
    assert sandbox.workspace_volume in engine.volumes


def test_start_after_stop(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)
    run(sandbox_stop(sandbox=sandbox, actor=member))

    run(sandbox_start(sandbox=sandbox, actor=member))

    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.RUNNING
    assert all(c["running"] for c in engine.containers.values())
    assert tenant_usage(tenant=tenant).cpus == 3


def test_resize_adds_and_removes_workers(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    run(sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 3}))
    assert len(engine.containers) == 4
    assert tenant_usage(tenant=tenant).cpus == 4

    run(sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 1}))
    sandbox.refresh_from_db()
    prefix = sandbox.resource_prefix
    assert sorted(engine.containers) == [f"{prefix}-head-0", f"{prefix}-worker-0"]
    assert tenant_usage(tenant=tenant).cpus == 2
    assert sandbox.status == SandboxStatus.RUNNING


def test_resize_outside_role_bounds_is_refused(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    with pytest.raises(InvalidRequest) as err:
        sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 9})

    assert err.value.fields == {"nodes": ["Role 'worker' takes 0 to 4 nodes, not 9."]}


def test_delete_removes_everything_and_releases_quota(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    run(sandbox_delete(sandbox=sandbox, actor=member))

    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.DELETED
    assert engine.containers == {} and engine.networks == set() and engine.volumes == {}
    assert tenant_usage(tenant=tenant).as_dict() == {
        "cpus": 0,
        "memory_mib": 0,
        "gpus": 0,
        "storage_gib": 0,
        "sandboxes": 0,
    }
    assert set(sandbox.nodes.values_list("status", flat=True)) == {NodeStatus.DELETED}


def test_failed_create_leaves_nothing_behind(member, tenant, cluster_item, failing_engine):
    engine = failing_engine
    sandbox, operation = create(member, tenant)

    run(operation)

    sandbox.refresh_from_db()
    assert operation.status == OperationStatus.FAILED
    assert "image not found" in operation.explanation
    assert sandbox.status == SandboxStatus.ERROR
    assert engine.containers == {} and engine.networks == set() and engine.volumes == {}
    assert tenant_usage(tenant=tenant).sandboxes == 0
    run(sandbox_delete(sandbox=sandbox, actor=member))
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.DELETED


def test_nodes_that_never_pass_their_healthcheck_fail_the_create(
    member, tenant, cluster_item, never_ready_engine, settings
):
    engine = never_ready_engine
    with freeze_time("2030-01-01 12:00") as clock:
        sandbox, operation = create(member, tenant)
        assert operation_advance(operation_id=operation.pk).again_in is not None  # waits for them
        clock.tick(timedelta(seconds=settings.NODE_READY_TIMEOUT_S + 1))
        run(operation)

    sandbox.refresh_from_db()
    assert operation.status == OperationStatus.FAILED
    assert operation.explanation == (
        f"3 of 3 nodes did not pass their healthcheck within {settings.NODE_READY_TIMEOUT_S} seconds."
    )
    assert sandbox.status == SandboxStatus.ERROR
    assert engine.containers == {} and engine.networks == set() and engine.volumes == {}
    assert tenant_usage(tenant=tenant).sandboxes == 0


def test_over_quota_creates_nothing(member, tenant, cluster_item, engine):
    with pytest.raises(QuotaExceeded) as err:
        create(member, tenant, nodes={"worker": 4}, flavor="small", name="big", gpus_per_node=1)

    assert err.value.dimension == "gpus"
    assert not tenant.sandboxes.exists()
    assert tenant_usage(tenant=tenant).sandboxes == 0


def test_no_capacity_creates_nothing(member, tenant, cluster_item, fake_host, settings):
    settings.CPU_OVERCOMMIT = "0.5"  # 4 cores -> 2 allocatable

    with pytest.raises(NoCapacity, match="3 CPUs asked, at most 2 free on one host"):
        create(member, tenant)

    assert not tenant.sandboxes.exists()
    assert tenant_usage(tenant=tenant).cpus == 0


def test_bad_input_names_each_field(member, tenant, cluster_item, engine):
    with pytest.raises(InvalidRequest) as err:
        create(member, tenant, catalog_item="nope", flavor="huge")

    assert err.value.fields == {"catalog_item": ["No catalog item 'nope'."], "flavor": ["No flavor 'huge'."]}


def test_disabled_item_takes_no_new_sandboxes(member, tenant, cluster_item, engine):
    cluster_item.enabled = False
    cluster_item.save()

    with pytest.raises(InvalidRequest, match="disabled"):
        create(member, tenant)


def test_stop_while_provisioning_is_a_conflict(member, tenant, cluster_item, engine):
    sandbox, _operation = create(member, tenant)

    with pytest.raises(StateConflict, match="is pending"):
        sandbox_stop(sandbox=sandbox, actor=member)


def test_same_name_twice_is_refused(member, tenant, cluster_item, engine):
    create(member, tenant)

    with pytest.raises(InvalidRequest) as err:
        create(member, tenant)

    assert "already exists" in err.value.fields["name"][0]
