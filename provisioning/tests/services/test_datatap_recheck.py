"""Issue 21, item 1 against the fake engine: a hostpath DataTap is checked again right before
every container start (operations and the reconciler), mounted from the resolved path, verified
after the start, and may not nest in a directory that nodes can write."""

import os
import shutil

import pytest

from provisioning.errors import InvalidRequest
from provisioning.models import NodeStatus, OperationStatus, SandboxStatus
from provisioning.services.datataps import datatap_create, hostpath_prefix_add
from provisioning.services.reconciler import host_reconcile
from provisioning.services.sandboxes import sandbox_create, sandbox_start, sandbox_stop
from provisioning.tests.doubles import node_container
from provisioning.tests.lifecycle import run
from tenants.tests.factories import UserFactory


@pytest.fixture
def shared(tmp_path):
    root = tmp_path / "shared"
    (root / "imagenet").mkdir(parents=True)
    hostpath_prefix_add(actor=UserFactory(username="root-admin", is_site_admin=True), path=str(root))
    return root


@pytest.fixture
def outside(tmp_path):
    root = tmp_path / "outside"
    root.mkdir()
    return root


def _tap(tenant, actor, path, name="imagenet", read_only=True):
    return datatap_create(
        actor=actor, tenant=tenant, name=name, kind="hostpath", path=str(path), read_only=read_only
    )


def _sandbox(member, tenant):
    sandbox = sandbox_create(
        owner=member,
        tenant=tenant,
        name="exp",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 1},
        datataps=["imagenet"],
    )
    run(sandbox.operations.get())
    sandbox.refresh_from_db()
    return sandbox


def _swap_for_link(directory, target):
    shutil.rmtree(directory)
    os.symlink(target, directory)


def test_issue21_item1_start_refuses_a_datatap_swapped_for_a_link(
    member, tenant, cluster_item, engine, shared, outside
):
    _tap(tenant, member, shared / "imagenet")
    sandbox = _sandbox(member, tenant)
    run(sandbox_stop(sandbox=sandbox, actor=member))
    _swap_for_link(shared / "imagenet", outside)

    operation = run(sandbox_start(sandbox=sandbox, actor=member))

    assert operation.status == OperationStatus.FAILED
    assert operation.explanation.startswith(
        f"Node head-0: DataTap 'imagenet' was not mounted: {shared / 'imagenet'} (a link to {outside}) "
        "is not under a host path prefix the site allows"
    ), operation.explanation
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.ERROR
    assert not any(c["running"] for c in engine.containers.values())


def test_issue21_item1_a_link_within_the_prefix_is_mounted_resolved(
    member, tenant, cluster_item, engine, shared
):
    _tap(tenant, member, shared / "imagenet")
    sandbox = _sandbox(member, tenant)
    run(sandbox_stop(sandbox=sandbox, actor=member))
    (shared / "v2").mkdir()
    _swap_for_link(shared / "imagenet", shared / "v2")

    assert run(sandbox_start(sandbox=sandbox, actor=member)).status == OperationStatus.SUCCEEDED

    spec = engine.containers[node_container(sandbox, "head-0")]["spec"]
    assert {m.target: m.source for m in spec.mounts if m.kind == "bind"} == {
        "/data/imagenet": str(shared / "v2")
    }


def test_issue21_item1_the_reconciler_does_not_restart_a_node_onto_a_swapped_datatap(
    member, tenant, cluster_item, engine, fake_host, shared, outside
):
    _tap(tenant, member, shared / "imagenet")
    sandbox = _sandbox(member, tenant)
    head = node_container(sandbox, "head-0")
    engine.containers[head]["running"] = False  # the node died
    _swap_for_link(shared / "imagenet", outside)

    host_reconcile(host=fake_host)

    assert not engine.containers[head]["running"]
    node = sandbox.nodes.get(role="head")
    assert node.status == NodeStatus.FAILED
    assert "DataTap 'imagenet' was not mounted" in node.explanation


def test_issue21_item1_what_the_engine_mounted_must_be_what_was_checked(
    member, tenant, cluster_item, engine, shared, monkeypatch
):
    """An engine that bound something else (as a path swapped between check and start makes
    it): the node is removed and the operation says why."""
    _tap(tenant, member, shared / "imagenet")
    start = type(engine).start

    def start_elsewhere(self, spec):
        state = start(self, spec)
        return type(state)(**{**state.__dict__, "binds": {"/data/imagenet": "/"}})

    monkeypatch.setattr(type(engine), "start", start_elsewhere)
    sandbox = sandbox_create(
        owner=member,
        tenant=tenant,
        name="exp",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 1},
        datataps=["imagenet"],
    )

    operation = run(sandbox.operations.get())

    assert operation.status == OperationStatus.FAILED
    assert "the engine mounted / at /data/imagenet, not the checked directory" in operation.explanation
    assert engine.containers == {}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("scratch", False), ("scratch/inner", True)),  # read-only inside a writable one
        (("scratch/inner", True), ("scratch", False)),  # a writable one around a read-only one
        (("scratch", True), ("scratch/inner", False)),  # a writable one inside another
    ],
)
def test_issue21_item1_datataps_may_not_nest_where_nodes_can_write(member, tenant, shared, first, second):
    (shared / "scratch" / "inner").mkdir(parents=True)
    _tap(tenant, member, shared / first[0], name="one", read_only=first[1])

    with pytest.raises(InvalidRequest) as refused:
        _tap(tenant, member, shared / second[0], name="two", read_only=second[1])

    assert "a node could replace" in refused.value.fields["path"][0]
    assert "Choose directories that do not nest." in refused.value.fields["path"][0]


def test_issue21_item1_read_only_datataps_may_nest(member, tenant, shared):
    (shared / "scratch" / "inner").mkdir(parents=True)
    _tap(tenant, member, shared / "scratch", name="one")
    _tap(tenant, member, shared / "scratch" / "inner", name="two")


def test_issue21_item1_writers_and_readers_may_share_one_directory(member, tenant, shared):
    _tap(tenant, member, shared / "imagenet", name="one")
    _tap(tenant, member, shared / "imagenet", name="two", read_only=False)
