"""The worker side of operations: each call of operation_advance does what can be done now and
says whether to look again later. Every step is idempotent (objects are found by name), so a
retry after a crash adopts what the interrupted attempt made.

A bring-up (create, start, resize) makes the network, volumes and containers once; its later
looks only learn readiness, which the readiness watcher (provisioning.services.readiness_watch)
asks for when it sees a node answer. Each milestone is recorded in `Operation.phases`."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.async_work import Outcome, close_unless_final
from provisioning.containers import node_spec, sandbox_labels, sandbox_tap_volumes
from provisioning.drivers import DriverError, driver_for_host
from provisioning.extensions import sandbox_extensions
from provisioning.models import Host, Node, Operation, OperationPhase, Sandbox
from provisioning.services import worker_locks
from provisioning.services.datataps import (
    DataTapRefused,
    datatap_mounts_verify,
    datatap_sources_check,
    sandbox_mount_failure,
)
from provisioning.services.pools import pool_node_adopt
from provisioning.services.readiness import node_ready
from provisioning.services.worker_locks import worker_lock
from provisioning.states import (
    NODE_FINAL,
    OPERATION_FINAL,
    OPERATION_TRANSITIONS,
    SANDBOX_TRANSITIONS,
    HostState,
    NodeStatus,
    OperationStatus,
    SandboxAction,
    SandboxStatus,
)
from tenants.services.quota import quota_release

log = logging.getLogger(__name__)

#: What a bring-up waiting for its nodes says: look again about then. The readiness watcher
#: looks sooner when it sees a node answer; the worker never counts down to it.
READY_LOOK_AGAIN_S = 1.0
#: A step that found another worker on its sandbox (the step of an operation a delete
#: supersedes, or a duplicate message) tries again about then.
LOCK_BUSY_RETRY_S = 1.0


class OperationFailed(Exception):
    """Ends the operation with this plain-language explanation."""


def operation_advance(*, operation_id: int) -> Outcome:
    operation = Operation.objects.select_related("sandbox").filter(pk=operation_id).first()
    if operation is None or operation.status in OPERATION_FINAL:
        return Outcome()
    with worker_lock(worker_locks.SANDBOX, operation.sandbox_id) as acquired:
        if not acquired:
            # Another worker is on this sandbox: the step of an operation this one supersedes,
            # or a duplicate of this one. Look again once that step is likely over.
            return Outcome(again_in=LOCK_BUSY_RETRY_S)
        operation.refresh_from_db()
        if operation.status in OPERATION_FINAL:
            return Outcome()
        if Sandbox.objects.filter(pk=operation.sandbox_id, status=SandboxStatus.QUEUED).exists():
            # A start waiting in the queue: the admission pass places its nodes, then enqueues it.
            return Outcome()
        if operation.status == OperationStatus.PENDING or operation.started is None:
            operation.status = OPERATION_TRANSITIONS["run"].through
            operation.started = timezone.now()
            _mark(operation, OperationPhase.QUEUED, at=operation.created)
        operation.attempts += 1
        operation.save(update_fields=["status", "started", "attempts", "phases", "updated"])
        try:
            finished = HANDLERS[operation.kind](operation)
        except (DriverError, OperationFailed) as exc:
            _fail(operation, str(exc))
            return Outcome()
        if finished:
            _finish(operation)
            return Outcome()
        return Outcome(again_in=READY_LOOK_AGAIN_S, on_nodes=True)


def operation_passed(operation: Operation, phase: OperationPhase) -> bool:
    return any(entry["phase"] == phase for entry in operation.phases)


def _mark(operation: Operation, phase: OperationPhase, *, at=None) -> None:
    """Record a milestone once, in memory; the caller saves `phases`."""
    if not operation_passed(operation, phase):
        at = (at or timezone.now()).isoformat()
        operation.phases = [*operation.phases, {"phase": phase.value, "at": at}]


def _phase(operation: Operation, phase: OperationPhase) -> None:
    if not operation_passed(operation, phase):
        _mark(operation, phase)
        operation.save(update_fields=["phases", "updated"])


def _progress(operation: Operation, done: int, total: int, message: str) -> None:
    operation.progress_done, operation.progress_total, operation.progress_message = done, total, message
    operation.save(update_fields=["progress_done", "progress_total", "progress_message", "updated"])


def _finish(operation: Operation) -> None:
    final = SANDBOX_TRANSITIONS[operation.kind].ends
    # A deleted sandbox is kept as a record, but its nodes' SSH key goes with its containers.
    gone = {"ssh_private_key": ""} if final == SandboxStatus.DELETED else {}
    with transaction.atomic():
        _lock_sandbox(operation)
        if _close(operation, OPERATION_TRANSITIONS["run"].ends):
            Sandbox.objects.filter(pk=operation.sandbox_id).update(
                status=final, explanation="", updated=timezone.now(), **gone
            )


def _fail(operation: Operation, explanation: str) -> None:
    """Undo what the operation made so nothing is left behind, then record why it failed."""
    sandbox = operation.sandbox
    log.warning("operation %s of sandbox %s failed: %s", operation.kind, sandbox.pk, explanation)
    cleanup_note = ""
    try:
        if operation.kind == SandboxAction.CREATE:
            _tear_down(sandbox)
        elif operation.kind in (SandboxAction.START, SandboxAction.RESIZE, SandboxAction.STOP):
            _stop_all(sandbox)
    except DriverError as exc:
        cleanup_note = f" Cleaning up also failed ({exc}); the reconciler will remove what is left."
    with transaction.atomic():
        _lock_sandbox(operation)
        if _close(operation, OPERATION_TRANSITIONS["run"].fails, explanation + cleanup_note):
            Sandbox.objects.filter(pk=sandbox.pk).update(
                status=SANDBOX_TRANSITIONS[operation.kind].fails,
                explanation=explanation + cleanup_note,
                updated=timezone.now(),
            )


def _lock_sandbox(operation: Operation) -> None:
    """The sandbox's row first, then the operation's: the order a delete that cancels the
    operation takes them in, so the two never wait on each other."""
    list(Sandbox.objects.select_for_update().filter(pk=operation.sandbox_id).values_list("pk", flat=True))


def _close(operation: Operation, status: str, explanation: str | None = None) -> bool:
    """The final write, race-safe: of two workers closing the operation, one does; only that
    one moves the sandbox on. A success keeps the explanation the operation was given when it
    was asked for (e.g. why the idle limit stopped the sandbox)."""
    now = timezone.now()
    told = {} if explanation is None else {"explanation": explanation}
    closed = close_unless_final(
        Operation, operation.pk, final=OPERATION_FINAL, status=status, finished=now, updated=now, **told
    )
    if closed:
        operation.status, operation.finished = status, now
        if explanation is not None:
            operation.explanation = explanation
    return closed


def _live_nodes(sandbox: Sandbox) -> list[Node]:
    return list(sandbox.nodes.live().select_related("host", "sandbox__catalog_item", "sandbox__tenant"))


def _drivers(nodes: list[Node]) -> dict[int, tuple[Host, object]]:
    hosts = {n.host_id: n.host for n in nodes if n.host_id}
    return {host_id: (host, driver_for_host(host)) for host_id, host in hosts.items()}


def _swarm_manager(sandbox: Sandbox):
    """The overlay network of a sandbox spanning a swarm is made and removed through one of the
    swarm's managers; its other engines attach their containers to it."""
    manager = (
        Host.objects.filter(swarm=sandbox.swarm, swarm_manager=True)
        .exclude(state__in=[HostState.DISABLED, HostState.UNREACHABLE])
        .order_by("pk")
        .first()
    )
    if manager is None:
        raise DriverError(
            "No manager of the sandbox's Docker swarm answers: its overlay network cannot be "
            "made or removed. Register a swarm manager as a host, or bring one back."
        )
    return driver_for_host(manager)


def _bring_up(operation: Operation) -> bool:
    """Make every live node run, once; then, at each look, learn how many are ready."""
    sandbox = Sandbox.objects.select_related("catalog_item", "tenant").get(pk=operation.sandbox_id)
    # Conditional: a delete accepted meanwhile has moved the sandbox on, and stays.
    Sandbox.objects.filter(pk=sandbox.pk, status=SandboxStatus.PENDING).update(
        status=SANDBOX_TRANSITIONS[SandboxAction.CREATE].through
    )
    nodes = _live_nodes(sandbox)
    drivers = _drivers(nodes)
    states = {}
    if not operation_passed(operation, OperationPhase.STARTED):
        states = _start_nodes(operation, sandbox, nodes, drivers)
    return _nodes_ready(operation, nodes, drivers, states)


def _start_nodes(operation: Operation, sandbox: Sandbox, nodes: list[Node], drivers) -> dict:
    """Network, volumes and one container per node, adopted by name where a previous attempt
    made them. Returns what the engine said of each node's container as it started it."""
    _phase(operation, OperationPhase.PLACED)
    tap_volumes = sandbox_tap_volumes(sandbox)
    if sandbox.swarm:
        _swarm_manager(sandbox).ensure_network(
            name=sandbox.network_name, labels=sandbox_labels(sandbox), overlay=True
        )
    for host, driver in drivers.values():
        if not sandbox.swarm:
            driver.ensure_network(name=sandbox.network_name, labels=sandbox_labels(sandbox))
        for name, driver_opts in tap_volumes.items():
            driver.ensure_volume(name=name, labels=sandbox_labels(sandbox), driver_opts=driver_opts)
        for extension in sandbox_extensions():
            extension.sandbox_network_ready(sandbox=sandbox, host=host, network=sandbox.network_name)
    _phase(operation, OperationPhase.NETWORK)
    states = {}
    for node in nodes:
        driver = drivers[node.host_id][1]
        # DataTaps checked right before, the workspace its own size-limited file system.
        _spec, state = _node_start(sandbox, node, driver)
        states[node.pk] = state
        if not (node.status == NodeStatus.RUNNING and state.running):  # a resize keeps the others
            node.status = NodeStatus.STARTING
        node.ip = state.ip
        Node.objects.filter(pk=node.pk).update(status=node.status, ip=state.ip, explanation="")
    _phase(operation, OperationPhase.STARTED)
    return states


def _nodes_ready(operation: Operation, nodes: list[Node], drivers, states: dict) -> bool:
    """One look at the nodes not known ready yet: one inspect each (or what starting them just
    said) and a probe of their services; never a command run inside them."""
    for node in nodes:
        if node.status == NodeStatus.RUNNING:
            continue
        driver = drivers[node.host_id][1]
        state = states.get(node.pk) or driver.poll(name=node.container_name)
        if not state.exists:  # removed under us: make it again, as a retry would
            _spec, state = _node_start(node.sandbox, node, driver)
        if not state.running:
            raise OperationFailed(_exited_explanation(node, state, driver))
        if state.health == "unhealthy":
            logs = driver.logs(name=node.container_name, tail=20)
            raise OperationFailed(
                f"Node {node.hostname} failed its healthcheck. Last lines of its log:\n{logs}"
            )
        if node_ready(node=node, driver=driver, state=state):
            node.status = NodeStatus.RUNNING
            Node.objects.filter(pk=node.pk).update(status=node.status, ip=state.ip, explanation="")
    total = len(nodes)
    ready = sum(node.status == NodeStatus.RUNNING for node in nodes)
    _progress(operation, ready, total, f"{ready} of {total} nodes running")
    if ready == total:
        _phase(operation, OperationPhase.READY)
        return True
    if (timezone.now() - operation.started).total_seconds() > settings.NODE_READY_TIMEOUT_S:
        raise OperationFailed(
            f"{total - ready} of {total} nodes did not pass their healthcheck within "
            f"{settings.NODE_READY_TIMEOUT_S} seconds."
        )
    return False


def node_start_checked(sandbox: Sandbox, node: Node, driver):
    """Start the node with its hostpath DataTaps checked right before, mounted from the paths
    that were checked, and verified after: a DataTap swapped for a link meanwhile leaves no
    container behind. Raises DataTapRefused or DriverError; returns the node's spec and state."""
    checked = datatap_sources_check(sandbox)
    spec = node_spec(node, tap_sources={pk: source.path for pk, source in checked.items()})
    _workspace_ensure(sandbox, driver)  # still its own size-limited file system (after a reboot)
    state = pool_node_adopt(node=node, spec=spec, driver=driver) or driver.start(spec)
    try:
        datatap_mounts_verify(sandbox, checked, state.binds)
    except DataTapRefused:
        driver.remove(name=spec.name)
        raise
    return spec, state


def _workspace_ensure(sandbox: Sandbox, driver) -> None:
    """The workspace, limited to the flavor's disk: a full one is the node's ENOSPC, not the host's."""
    driver.ensure_volume(
        name=sandbox.workspace_volume, labels=sandbox_labels(sandbox), size_gib=sandbox.flavor.disk_gib
    )


def _node_start(sandbox: Sandbox, node: Node, driver):
    try:
        return node_start_checked(sandbox, node, driver)
    except DataTapRefused as exc:
        raise OperationFailed(f"Node {node.hostname}: {exc}") from exc
    except DriverError as exc:
        explanation = sandbox_mount_failure(sandbox, str(exc))
        if explanation is None:
            raise
        raise OperationFailed(f"Node {node.hostname}: {explanation}") from exc


def _exited_explanation(node: Node, state, driver) -> str:
    logs = driver.logs(name=node.container_name, tail=20).strip()
    return f"Node {node.hostname} stopped right after starting (exit code {state.exit_code})." + (
        f" Last lines of its log:\n{logs}" if logs else ""
    )


def _stop(operation: Operation) -> bool:
    sandbox = operation.sandbox
    _stop_all(sandbox, progress=operation)
    return True


def _stop_all(sandbox: Sandbox, progress: Operation | None = None) -> None:
    """Stop every container and give back their cpus, memory and GPUs; keep the workspace."""
    nodes = _live_nodes(sandbox)
    drivers = _drivers(nodes)
    for done, node in enumerate(nodes, start=1):
        drivers[node.host_id][1].stop(name=node.container_name)
        with transaction.atomic():
            Node.objects.filter(pk=node.pk).update(status=NodeStatus.STOPPED, ip=None)
            quota_release(group=sandbox.ledger_group, subjects=[node.ledger_subject])
        if progress:
            _progress(progress, done, len(nodes), f"{done} of {len(nodes)} nodes stopped")


def _resize(operation: Operation) -> bool:
    sandbox = operation.sandbox
    removed = list(sandbox.nodes.live().filter(pk__in=operation.params.get("remove", [])))
    drivers = _drivers(removed)
    for node in removed:
        drivers[node.host_id][1].remove(name=node.container_name)
        with transaction.atomic():
            Node.objects.filter(pk=node.pk).update(status=NodeStatus.DELETED, ip=None)
            quota_release(group=sandbox.ledger_group, subjects=[node.ledger_subject])
    return _bring_up(operation)


def _delete(operation: Operation) -> bool:
    _tear_down(operation.sandbox, progress=operation)
    return True


def _tear_down(sandbox: Sandbox, progress: Operation | None = None) -> None:
    """Remove containers, network and workspace on every host the sandbox used, then release
    everything it held in the quota ledger."""
    nodes = list(sandbox.nodes.select_related("host", "sandbox"))
    drivers = _drivers(nodes)
    live = [n for n in nodes if n.status not in NODE_FINAL]
    for done, node in enumerate(live, start=1):
        if node.host_id:
            drivers[node.host_id][1].remove(name=node.container_name)
        Node.objects.filter(pk=node.pk).update(status=NodeStatus.DELETED, ip=None)
        if progress:
            _progress(progress, done, len(live), f"{done} of {len(live)} nodes removed")
    tap_volumes = sandbox_tap_volumes(sandbox)
    if sandbox.swarm:
        _swarm_manager(sandbox).remove_network(name=sandbox.network_name)
    for _host, driver in drivers.values():
        if not sandbox.swarm:
            driver.remove_network(name=sandbox.network_name)
        driver.remove_volume(name=sandbox.workspace_volume)
        for name in tap_volumes:
            driver.remove_volume(name=name)
    quota_release(group=sandbox.ledger_group)


HANDLERS = {
    SandboxAction.CREATE: _bring_up,
    SandboxAction.START: _bring_up,
    SandboxAction.RESIZE: _resize,
    SandboxAction.STOP: _stop,
    SandboxAction.DELETE: _delete,
}
