"""The reconciler: compares what the database wants with what every host runs (one listing of
containers by label per host) and converges. Sandboxes with an operation in flight belong to
that operation; operations, jobs and image builds whose worker died or whose message was lost
are handed to a worker again."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.services.builds import image_builds_resume
from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import DriverError, HostUnreachable, driver_for_host
from provisioning.models import Host, Node, Operation, Sandbox
from provisioning.naming import made_by_this_site, sandbox_id_from_name
from provisioning.pool_selectors import pool_objects_kept
from provisioning.services.datataps import DataTapRefused
from provisioning.services.dispatch import operation_enqueue
from provisioning.services.drift import drift_record
from provisioning.services.hosts import host_inventory_refresh
from provisioning.services.jobs import jobs_resume
from provisioning.services.operations import node_start_checked
from provisioning.services.readiness import node_ready
from provisioning.states import (
    NODE_TRANSITIONS,
    SANDBOX_KEEPS_RESOURCES,
    SANDBOX_SETTLED,
    HostState,
    NodeStatus,
    SandboxStatus,
)

log = logging.getLogger(__name__)


def reconcile_all() -> dict:
    """One pass of the reconciler: resume stalled operations, jobs and image builds, converge
    every host, and count the drift it found for /metrics."""
    report = {
        "resumed": operations_resume_stale(),
        "jobs_resumed": len(jobs_resume()),
        "builds_resumed": len(image_builds_resume()),
        "hosts": {},
    }
    for host in Host.objects.exclude(state=HostState.DISABLED):
        if host.state == HostState.PENDING:
            # Its first inventory (lost with a broker that was down?) decides whether it is an
            # engine of its own: no pass over its containers before that.
            host_inventory_refresh(host=host)
            continue
        report["hosts"][host.name] = host_reconcile(host=host)
    drift_record(report=report)
    return report


def operations_resume_stale() -> int:
    """Operations that made no progress for a while lost their worker (killed, or the message
    was lost): enqueue them again. A live worker holds the sandbox lock, so a duplicate run
    returns at once."""
    stale = Operation.objects.active().filter(
        updated__lt=timezone.now() - timedelta(seconds=settings.OPERATION_STALE_S)
    )
    count = 0
    for operation in stale:
        operation_enqueue(operation)
        count += 1
    return count


def host_reconcile(*, host: Host) -> dict:
    drift = {"restarted": 0, "stopped": 0, "orphans_removed": 0, "unknown": 0, "recovered": 0}
    driver = driver_for_host(host, timeout=10)
    try:
        containers = {c.name: c for c in driver.list_managed()}
    except HostUnreachable as exc:
        host_inventory_refresh(host=host)
        drift["unknown"] = _mark_unknown(host, str(exc))
        return drift
    if host.state == HostState.UNREACHABLE:
        host = host_inventory_refresh(host=host)

    busy = set(Operation.objects.active().values_list("sandbox_id", flat=True))
    nodes = (
        Node.objects.live()
        .filter(host=host)
        .exclude(sandbox_id__in=busy)
        .select_related("sandbox__catalog_item", "sandbox__tenant", "host")
    )
    touched_sandboxes = set()
    for node in nodes:
        sandbox = node.sandbox
        if sandbox.status not in SANDBOX_SETTLED:
            continue
        state = containers.get(node.container_name)
        try:
            if sandbox.status == SandboxStatus.STOPPED:
                if state and state.running:
                    driver.stop(name=node.container_name)
                    drift["stopped"] += 1
                continue
            if state is None or not state.running:
                _spec, state = node_start_checked(sandbox, node, driver)
                drift["restarted"] += 1
                ready = node_ready(node=node, driver=driver, state=state)
            else:
                ready = state.ready or node_ready(node=node, driver=driver, state=state)
        except (DriverError, DataTapRefused) as exc:
            Node.objects.filter(pk=node.pk).update(status=NodeStatus.FAILED, explanation=str(exc))
            continue
        status = NodeStatus.RUNNING if ready else NodeStatus.STARTING
        if node.status == NodeStatus.UNKNOWN and status == NodeStatus.RUNNING:
            drift["recovered"] += 1
        if node.status != status:
            Node.objects.filter(pk=node.pk).update(status=status, ip=state.ip or node.ip, explanation="")
            touched_sandboxes.add(sandbox.pk)

    for sandbox_id in touched_sandboxes:
        _sandbox_status_from_nodes(sandbox_id)

    drift["orphans_removed"] = _remove_orphans(host, driver, containers, busy)
    return drift


def _mark_unknown(host: Host, reason: str) -> int:
    """Nodes of a host that does not answer become unknown; their quota is kept because the
    containers may well still run."""
    lose = NODE_TRANSITIONS["lose"]
    nodes = Node.objects.filter(host=host, status__in=lose.allowed_from)
    sandbox_ids = set(nodes.values_list("sandbox_id", flat=True))
    count = nodes.update(status=lose.ends, explanation=reason)
    Sandbox.objects.filter(pk__in=sandbox_ids, status=SandboxStatus.RUNNING).update(
        status=SandboxStatus.UNKNOWN, explanation=f"Host {host.name} does not answer: {reason}"
    )
    return count


def _sandbox_status_from_nodes(sandbox_id: int) -> None:
    nodes = Node.objects.live().filter(sandbox_id=sandbox_id)
    if nodes.exists() and not nodes.exclude(status=NodeStatus.RUNNING).exists():
        Sandbox.objects.filter(pk=sandbox_id, status=SandboxStatus.UNKNOWN).update(
            status=SandboxStatus.RUNNING, explanation=""
        )


def _remove_orphans(host: Host, driver, containers: dict, busy: set[int]) -> int:
    """Remove containers, networks and volumes the platform made that no live sandbox owns
    here (a node started on another host leaves its old container behind, for instance)."""
    expected = {
        node.container_name for node in Node.objects.live().filter(host=host).select_related("sandbox")
    }
    # Read after the listing, as `expected`: a pooled node made meanwhile is already a row.
    pooled = pool_objects_kept(host=host, sandbox_ids=set())
    # Only sandboxes' and pools' objects are this pass's: a tenant service's (a tracking server,
    # an endpoint's replica) carries neither label nor such a name, and its own app converges it.
    candidates = {
        name: state
        for name, state in containers.items()
        if name not in expected | pooled
        and (_label_id(state.labels, "sandbox") is not None or _label_id(state.labels, "pool") is not None)
        and _label_id(state.labels, "sandbox") not in busy
    }
    # A live node recorded on another host is that host's to converge: this engine may be the
    # same one under a second name, where removing it would destroy a running sandbox.
    elsewhere = set(
        Node.objects.filter(pk__in={_label_id(s.labels, "node") for s in candidates.values()})
        .exclude(status=NodeStatus.DELETED)
        .exclude(host=host)
        .values_list("pk", flat=True)
    )
    removed = 0
    for name, state in candidates.items():
        if _label_id(state.labels, "node") in elsewhere:
            continue
        driver.remove(name=name)
        removed += 1
    # Listed before the database is read: a sandbox whose network appears after the listing is
    # then already in the database, so a create in flight never loses its network or volume.
    networks = driver.list_managed_networks()
    volumes = driver.list_managed_volumes()
    holding = set(Node.objects.live().values_list("sandbox_id", flat=True).distinct())
    live = set(Sandbox.objects.filter(status__in=SANDBOX_KEEPS_RESOURCES).values_list("pk", flat=True))
    keep = live | holding | busy
    # The pool's objects, and the pooled workspaces these sandboxes took over, keep their names.
    pooled = pool_objects_kept(host=host, sandbox_ids=keep)
    for network in networks:
        if made_by_this_site(network) and sandbox_id_from_name(network) not in keep and network not in pooled:
            driver.remove_network(name=network)
            removed += 1
    for volume in volumes:
        if made_by_this_site(volume) and sandbox_id_from_name(volume) not in keep and volume not in pooled:
            driver.remove_volume(name=volume)
            removed += 1
    return removed


def _label_id(labels: dict, kind: str) -> int | None:
    value = labels.get(f"{LABEL_PREFIX}.{kind}", "")
    return int(value) if value.isdigit() else None
