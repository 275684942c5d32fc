"""The launch queue's write side: admit queued sandboxes when hosts have room, in fair-share
order (provisioning.queue has the rules), and end those that waited too long.

One pass at a time, site-wide, under a PostgreSQL advisory lock held for its transaction; the
hosts' rows are locked as for a direct launch, so a pass and a launch never hand out the same
room. A pass runs after anything that frees room (an operation that ends: stop, delete, resize
down, a failed create; a host added or back in service), when a launch joins the queue, and
periodically from beat. An admitted launch goes on as a normal create operation."""

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from provisioning.models import Host, Node, NodeStatus, Operation, OperationStatus, Sandbox, SandboxStatus
from provisioning.placement import HostSnapshot, NodeRequest, PlacementError, place
from provisioning.queue import QueuedLaunch, admit, fairshare_factors
from provisioning.services.capacity import hosts_snapshot
from provisioning.services.dispatch import operation_enqueue
from provisioning.states import OPERATION_FINAL, SANDBOX_TRANSITIONS, SandboxAction
from tenants.models import Tenant
from tenants.selectors.fairshare import tenant_decayed_usage
from tenants.services.audit import audit_record
from tenants.services.quota import quota_admit, quota_mark_queued, quota_release

log = logging.getLogger(__name__)

#: Advisory lock namespace of the admission pass; worker_locks holds the others, none repeated
#: (a shared one would make the pass and the readiness watcher wait for each other).
QUEUE_LOCK = 71_004


def sandbox_queue(*, sandbox: Sandbox, ip: str | None = None) -> None:
    """Put a sandbox whose quota is reserved, but that no host can take now, in the queue. Call
    inside the transaction that created it."""
    sandbox.status = SandboxStatus.QUEUED
    sandbox.queued_at = timezone.now()
    sandbox.save(update_fields=["status", "queued_at", "updated"])
    quota_mark_queued(group=sandbox.ledger_group)
    queue_admit_soon()


def sandbox_cancel_queued(*, sandbox: Sandbox) -> Operation:
    """A queued sandbox has nothing on any engine: deleting it releases its reservation and ends
    at once. Call with the sandbox's row locked."""
    now = timezone.now()
    sandbox.nodes.update(status=NodeStatus.DELETED)
    quota_release(group=sandbox.ledger_group, at=now)
    sandbox.status = SandboxStatus.DELETED
    sandbox.explanation = ""
    sandbox.ssh_private_key = ""
    sandbox.save(update_fields=["status", "explanation", "ssh_private_key", "updated"])
    return Operation.objects.create(
        sandbox=sandbox,
        kind=Operation.Kind.DELETE,
        status=OperationStatus.SUCCEEDED,
        progress_message="Left the queue; nothing was running",
        started=now,
        finished=now,
    )


def sandbox_leave_queue(*, sandbox: Sandbox, why: str) -> Operation:
    """Take a queued sandbox out of the queue, keeping it, stopped: its nodes' cpus, memory and
    GPUs are released (its sandbox slot stays held, as for any stopped sandbox) and a start that
    waited is cancelled. Its containers, if it ran before, stay stopped where they are. Call with
    the sandbox's row locked."""
    now = timezone.now()
    nodes = list(sandbox.nodes.live())
    Node.objects.filter(pk__in=[n.pk for n in nodes]).update(status=NodeStatus.STOPPED)
    quota_release(group=sandbox.ledger_group, subjects=[n.ledger_subject for n in nodes], at=now)
    sandbox.operations.exclude(status__in=OPERATION_FINAL).update(
        status=OperationStatus.CANCELLED, explanation=f"Left the queue: {why}", finished=now, updated=now
    )
    sandbox.status = SandboxStatus.STOPPED
    sandbox.queued_at = None
    sandbox.save(update_fields=["status", "queued_at", "updated"])
    return Operation.objects.create(
        sandbox=sandbox,
        kind=Operation.Kind.STOP,
        status=OperationStatus.SUCCEEDED,
        progress_message=f"Left the queue; nothing was running. {why}",
        started=now,
        finished=now,
    )


def queue_admit_soon() -> None:
    """Ask a worker for a pass once the caller's transaction commits, if anything is queued."""

    def send() -> None:
        from provisioning.tasks import queue_admit

        if not Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists():
            return
        try:
            queue_admit.delay()
        except OperationalError as exc:
            log.warning("broker down, the queue waits for beat's next pass: %s", exc)

    transaction.on_commit(send)


def queue_admit_pass() -> dict:
    """One pass: expire launches queued too long, then admit what fits. Returns the ids."""
    if not Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists():
        return {"admitted": [], "expired": [], "preempted": []}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [QUEUE_LOCK])
        now = timezone.now()
        expired = _expire(now=now)
        # A sandbox being cancelled right now is skipped, not waited for.
        queued = list(
            Sandbox.objects.filter(status=SandboxStatus.QUEUED)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("tenant", "owner")
        )
        if not queued:
            return {"admitted": [], "expired": expired, "preempted": []}
        nodes = live_nodes_of(queued)
        factors = fairshare_factors_now(now=now)
        admission = admit(
            launches=[queued_launch(s, nodes[s.pk]) for s in queued],
            hosts=hosts_snapshot(lock=True),
            factors=factors,
            overcommit=Decimal(settings.CPU_OVERCOMMIT),
        )
        by_id = {s.pk: s for s in queued}
        admitted = []
        for launch in admission.admitted:
            _start(by_id[launch.id], nodes[launch.id], admission.placements[launch.id], now=now)
            admitted.append(launch.id)
        preempted = _preempt(waiting=admission.waiting, factors=factors, by_id=by_id, now=now)
    return {"admitted": admitted, "expired": expired, "preempted": preempted}


def fairshare_factors_now(*, now) -> dict[str, float]:
    shares = dict(Tenant.objects.values_list("slug", "share"))
    half_life = timedelta(days=settings.FAIRSHARE_HALF_LIFE_DAYS)
    return fairshare_factors(usage=tenant_decayed_usage(now=now, half_life=half_life), shares=shares)


def live_nodes_of(sandboxes: list[Sandbox]) -> dict[int, list[Node]]:
    nodes: dict[int, list[Node]] = {s.pk: [] for s in sandboxes}
    for node in Node.objects.filter(sandbox__in=sandboxes).exclude(status=NodeStatus.DELETED).order_by("pk"):
        nodes[node.sandbox_id].append(node)
    return nodes


def queued_launch(sandbox: Sandbox, nodes: list[Node]) -> QueuedLaunch:
    return QueuedLaunch(
        id=sandbox.pk,
        tenant=sandbox.tenant.slug,
        arrived=sandbox.queued_at,
        nodes=node_requests(sandbox, nodes),
        labels=sandbox.host_labels,
        preemptible=sandbox.preemptible,
    )


def node_requests(sandbox: Sandbox, nodes: list[Node]) -> tuple[NodeRequest, ...]:
    return tuple(
        NodeRequest(key=str(n.pk), cpus=Decimal(n.cpus), memory_mib=n.memory_mib, gpus=sandbox.gpus_per_node)
        for n in nodes
    )


def _start(sandbox: Sandbox, nodes: list[Node], placement, *, now) -> None:
    """Hand the admitted launch to a worker: the start operation that waited, or a create."""
    waiting = _waiting_start(sandbox)
    for node in nodes:
        node.host_id = placement.host_ids[str(node.pk)]
        node.gpu_uuids = placement.gpu_uuids[str(node.pk)]
        if waiting is not None:
            node.status = NodeStatus.PENDING
    Node.objects.bulk_update(nodes, ["host", "gpu_uuids", "status"])
    sandbox.status = (
        SandboxStatus.PENDING if waiting is None else SANDBOX_TRANSITIONS[SandboxAction.START].through
    )
    sandbox.swarm = placement.swarm
    sandbox.save(update_fields=["status", "swarm", "updated"])
    quota_admit(group=sandbox.ledger_group, at=now)
    operation = waiting or Operation.objects.create(
        sandbox=sandbox, kind=Operation.Kind.CREATE, requested_by=sandbox.owner
    )
    audit_record(
        actor=None,
        action="sandbox.admit",
        tenant=sandbox.tenant,
        target=sandbox,
        detail={"queued_s": round((now - sandbox.queued_at).total_seconds(), 3)},
    )
    operation_enqueue(operation)


def _waiting_start(sandbox: Sandbox) -> Operation | None:
    """The start operation a queued sandbox waits with (None: the queued launch is a create)."""
    return (
        sandbox.operations.filter(kind=Operation.Kind.START, status=OperationStatus.PENDING)
        .order_by("-pk")
        .first()
    )


def _preempt(*, waiting: list[QueuedLaunch], factors: dict[str, float], by_id: dict, now) -> list[int]:
    """Opt-in preemption: for the first waiting launch of a tenant at or under its fair share
    (factor >= 0.5, i.e. U <= S), stop the youngest preemptible sandboxes of tenants over their
    share until the launch would fit, if it can; the stops free the room, and the pass that
    follows each stop admits it. Nothing more is preempted while earlier preemptions stop."""
    over = [slug for slug, factor in factors.items() if factor < FAIR]
    if not over or Sandbox.objects.filter(status=SandboxStatus.STOPPING).exclude(preemption="").exists():
        return []
    # Locked without waiting: the pass holds the hosts' rows, and a resize holding a sandbox's
    # row waits for them; one being changed right now is simply not a candidate.
    victims_pool = list(
        Sandbox.objects.filter(status=SandboxStatus.RUNNING, preemptible=True, tenant__slug__in=over)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("tenant", "owner")
        .order_by("-created", "-pk")
    )
    if not victims_pool:
        return []
    for launch in waiting:
        if factors.get(launch.tenant, 1.0) < FAIR:
            continue
        victims = _victims_for(launch, victims_pool)
        if victims:
            for victim in victims:
                _stop_for(victim, by_id[launch.id], now=now)
            return [v.pk for v in victims]
    return []


#: Fair-share factor of a tenant that uses exactly its share: 2 ** -1.
FAIR = 0.5


def _victims_for(launch: QueuedLaunch, pool: list[Sandbox]) -> list[Sandbox]:
    """The youngest of `pool` whose stopping lets `launch` fit, or [] if stopping all would not."""
    hosts = {h.id: h for h in hosts_snapshot(lock=True)}
    held = Node.objects.filter(sandbox__in=pool, host__isnull=False).exclude(
        status__in=[NodeStatus.STOPPED, NodeStatus.DELETED]
    )
    by_sandbox: dict[int, list[Node]] = {}
    for node in held:
        by_sandbox.setdefault(node.sandbox_id, []).append(node)
    overcommit = Decimal(settings.CPU_OVERCOMMIT)
    chosen = []
    for victim in pool:
        chosen.append(victim)
        for node in by_sandbox.get(victim.pk, []):
            host = hosts.get(node.host_id)
            if host is None:
                continue
            hosts[host.id] = replace(
                host,
                used_cpus=host.used_cpus - node.cpus,
                used_memory_mib=host.used_memory_mib - node.memory_mib,
                used_gpu_uuids=host.used_gpu_uuids - set(node.gpu_uuids),
            )
        try:
            place(
                nodes=list(launch.nodes),
                hosts=list(hosts.values()),
                overcommit=overcommit,
                labels=launch.labels,
            )
        except PlacementError:
            continue
        return chosen
    return []


def _stop_for(victim: Sandbox, needed_by: Sandbox, *, now) -> None:
    from provisioning.services.sandboxes import sandbox_stop

    sandbox_stop(sandbox=victim, actor=None)
    Sandbox.objects.filter(pk=victim.pk).update(
        preemption=(
            f"Stopped by the launch queue at {now:%Y-%m-%d %H:%M} UTC to make room for a launch of "
            f"{'your tenant' if needed_by.tenant_id == victim.tenant_id else 'another tenant'}, which "
            "is within its fair share while this tenant is over its own; this sandbox was marked "
            "preemptible. Its workspace is kept: start it again when you like."
        )
    )
    audit_record(
        actor=None,
        action="sandbox.preempt",
        tenant=victim.tenant,
        target=victim,
        detail={"for_sandbox": needed_by.pk, "for_tenant": needed_by.tenant.slug},
    )


def _expire(*, now) -> list[int]:
    limit = timedelta(seconds=settings.QUEUE_MAX_WAIT_S)
    overdue = list(
        Sandbox.objects.filter(status=SandboxStatus.QUEUED, queued_at__lt=now - limit)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("tenant")
    )
    for sandbox in overdue:
        if _waiting_start(sandbox) is not None:
            # It ran before: its workspace and stopped containers are kept, it is stopped again.
            why = (
                f"It waited {_duration(limit)} in the queue and no host had room for it; its "
                "cpus and memory were released. Start it again later, or ask a site admin for "
                "more hosts."
            )
            sandbox_leave_queue(sandbox=sandbox, why=why)
            Sandbox.objects.filter(pk=sandbox.pk).update(explanation=why)
        else:
            sandbox.nodes.update(status=NodeStatus.DELETED)
            quota_release(group=sandbox.ledger_group, at=now)
            sandbox.status = SandboxStatus.ERROR
            sandbox.explanation = (
                f"Waited {_duration(limit)} in the queue and no host had room for it, so it was "
                "not started and its quota was released. Delete it and launch again, perhaps "
                "smaller, or ask a site admin for more hosts."
            )
            sandbox.save(update_fields=["status", "explanation", "updated"])
        audit_record(
            actor=None,
            action="sandbox.queue_expired",
            tenant=sandbox.tenant,
            target=sandbox,
            result="failure",
            detail={"max_wait_s": int(limit.total_seconds())},
        )
    return [s.pk for s in overdue]


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{delta.total_seconds() / 60:g} minutes"


def launch_never_fits(*, sandbox: Sandbox, nodes: list[Node]) -> str:
    """Why no host could take the launch even with nothing on it ("" when one could): such a
    launch is refused at once instead of waiting for room that can never free. Hosts out of
    service do not count; unreachable and draining ones may come back."""
    empty = [
        HostSnapshot(
            id=h.pk,
            name=h.name,
            cpus=h.cpus,
            memory_mib=h.memory_mib,
            gpu_uuids=tuple(g["uuid"] for g in h.gpus),
            labels=h.labels,
            swarm=h.swarm,
        )
        for h in Host.objects.exclude(state=Host.State.DISABLED)
    ]
    if not empty:
        return "No Docker host is registered to take sandboxes."
    try:
        place(
            nodes=list(node_requests(sandbox, nodes)),
            hosts=empty,
            overcommit=Decimal(settings.CPU_OVERCOMMIT),
            labels=sandbox.host_labels,
        )
    except PlacementError as exc:
        return str(exc)
    return ""
