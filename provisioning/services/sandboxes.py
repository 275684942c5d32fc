"""Sandbox requests: validate, reserve quota and host capacity, record the operation, and hand
it to a worker once the transaction commits. Nothing here talks to a Docker engine."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.manifest import host_labels_problems
from catalog.models import CatalogItem, Flavor
from provisioning.errors import InvalidRequest, NoCapacity, OperationUnderWay, StateConflict
from provisioning.models import Job, Node, Operation, Sandbox
from provisioning.placement import PlacementError
from provisioning.quota_charges import node_resources, slot_resources
from provisioning.services.admission import (
    launch_never_fits,
    sandbox_cancel_queued,
    sandbox_leave_queue,
    sandbox_queue,
)
from provisioning.services.capacity import nodes_place
from provisioning.services.datataps import datataps_for_sandbox
from provisioning.services.dispatch import operation_enqueue
from provisioning.services.jobs import job_cancel
from provisioning.services.pools import pool_claim
from provisioning.states import (
    JOB_ACTIVE,
    OPERATION_FINAL,
    SANDBOX_BUSY,
    SANDBOX_SUPERSEDES,
    SANDBOX_TRANSITIONS,
    NodeStatus,
    OperationStatus,
    SandboxAction,
    SandboxStatus,
    sandbox_action_allowed,
)
from tenants.models import Tenant, User
from tenants.resources import AllocationRequest
from tenants.services.audit import audit_record
from tenants.services.quota import quota_reserve

#: What a refusal because another operation is under way suggests waiting before trying again.
RETRY_AFTER_S = 5


def sandbox_create(
    *,
    owner: User,
    tenant: Tenant,
    name: str,
    catalog_item: str,
    flavor: str,
    nodes: dict[str, int] | None = None,
    gpus_per_node: int = 0,
    datataps: list[str] | None = None,
    host_labels: dict[str, str] | None = None,
    preemptible: bool = False,
    ip: str | None = None,
) -> Sandbox:
    """`datataps` names DataTaps of the tenant, each mounted at /data/<name> on every node.
    `host_labels` narrows the hosts its nodes may run on, beyond what the catalog item asks.
    Within quota but with no host free now, it waits in the queue (status queued); so does every
    launch while others wait, so that none overtakes them outside the fair-share order."""
    item, flavor_obj, counts, labels = _validate_create(
        catalog_item=catalog_item,
        flavor=flavor,
        nodes=nodes,
        gpus_per_node=gpus_per_node,
        host_labels=host_labels or {},
    )
    try:
        with transaction.atomic():
            taps = datataps_for_sandbox(owner=owner, tenant=tenant, names=datataps or [])
            sandbox = Sandbox.objects.create(
                tenant=tenant,
                owner=owner,
                name=name,
                catalog_item=item,
                flavor=flavor_obj,
                gpus_per_node=gpus_per_node,
                host_labels=labels,
                preemptible=preemptible,
            )
            sandbox.datataps.set(taps)
            new_nodes = _nodes_add(sandbox, counts)
            quota_reserve(
                tenant=tenant,
                owner=owner,
                group=sandbox.ledger_group,
                requests=[_sandbox_allocation(sandbox), *[_node_allocation(n) for n in new_nodes]],
            )
            if pool_claim(sandbox=sandbox, nodes=new_nodes) or _place_or_queue(new_nodes, sandbox=sandbox):
                operation = Operation.objects.create(
                    sandbox=sandbox, kind=SandboxAction.CREATE, requested_by=owner
                )
                operation_enqueue(operation)
            audit_record(
                actor=owner,
                action="sandbox.create",
                tenant=tenant,
                target=sandbox,
                ip=ip,
                detail={"queued": True} if sandbox.status == SandboxStatus.QUEUED else None,
            )
    except IntegrityError as exc:
        if "unique_live_sandbox_name_per_tenant" in str(exc):
            raise InvalidRequest(
                {"name": [f"A sandbox named {name!r} already exists in this tenant."]}
            ) from exc
        raise
    return sandbox


def sandbox_stop(*, sandbox: Sandbox, actor: User, ip: str | None = None) -> Operation:
    """A queued sandbox leaves the queue at once and ends stopped; a running one is stopped by a
    worker."""
    with transaction.atomic():
        sandbox = _locked(sandbox)
        _require(sandbox, SandboxAction.STOP)
        if sandbox.status == SandboxStatus.QUEUED:
            who = actor.username if actor else "The portal"
            operation = sandbox_leave_queue(sandbox=sandbox, why=f"{who} stopped it while it waited.")
            audit_record(
                actor=actor,
                action="sandbox.stop",
                tenant=sandbox.tenant,
                target=sandbox,
                ip=ip,
                detail={"was": SandboxStatus.QUEUED},
            )
            return operation
        return _operation(sandbox, actor=actor, ip=ip, action=SandboxAction.STOP)


def sandbox_start(*, sandbox: Sandbox, actor: User, ip: str | None = None) -> Operation:
    """Start a stopped sandbox, within quota (409 otherwise). With no host free now, or others
    waiting, it joins the queue like a launch: its start operation waits, and the admission pass
    places its nodes and hands the operation to a worker."""
    with transaction.atomic():
        sandbox = _locked(sandbox)
        _require(sandbox, SandboxAction.START)
        Sandbox.objects.filter(pk=sandbox.pk).update(preemption="")  # the notice served its turn
        nodes = list(sandbox.nodes.live())
        quota_reserve(
            tenant=sandbox.tenant,
            owner=sandbox.owner,
            group=sandbox.ledger_group,
            requests=[_node_allocation(n) for n in nodes],
        )
        previous = next((n.host_id for n in nodes if n.host_id), None)
        if _place_or_queue(nodes, sandbox=sandbox, prefer_host_id=previous):
            Node.objects.filter(pk__in=[n.pk for n in nodes]).update(status=NodeStatus.PENDING)
            return _operation(sandbox, actor=actor, ip=ip, action=SandboxAction.START)
        operation = Operation.objects.create(sandbox=sandbox, kind=SandboxAction.START, requested_by=actor)
        audit_record(
            actor=actor,
            action="sandbox.start",
            tenant=sandbox.tenant,
            target=sandbox,
            ip=ip,
            detail={"queued": True},
        )
        return operation


def sandbox_resize(
    *, sandbox: Sandbox, actor: User, nodes: dict[str, int], force: bool = False, ip: str | None = None
) -> Operation:
    """Grow or shrink roles to the given counts; roles not named keep their count. A node to be
    removed that runs a job is refused (the job would die unseen) unless `force`, which cancels
    those jobs first."""
    with transaction.atomic():
        sandbox = _locked(sandbox)
        _require(sandbox, SandboxAction.RESIZE)
        live = list(sandbox.nodes.live())
        current = {role: sum(1 for n in live if n.role == role) for role in sandbox.catalog_item.spec.roles}
        target = _validate_counts(sandbox.catalog_item, {**current, **nodes})
        removed, added = [], {}
        for role, count in target.items():
            role_nodes = sorted((n for n in live if n.role == role), key=lambda n: n.index)
            removed += [n.pk for n in role_nodes[count:]]
            if count > len(role_nodes):
                added[role] = count - len(role_nodes)
        if not removed and not added:
            raise InvalidRequest({"nodes": ["The sandbox already has these node counts."]})
        _jobs_on_removed_nodes(sandbox, removed, actor=actor, force=force, ip=ip)
        new_nodes = _nodes_add(
            sandbox,
            added,
            start_after={r: max((n.index for n in live if n.role == r), default=-1) for r in added},
        )
        if new_nodes:
            quota_reserve(
                tenant=sandbox.tenant,
                owner=sandbox.owner,
                group=sandbox.ledger_group,
                requests=[_node_allocation(n) for n in new_nodes],
            )
            host_id = next(n.host_id for n in live if n.host_id)
            _place(new_nodes, sandbox=sandbox, only_host_id=host_id)
        return _operation(
            sandbox,
            actor=actor,
            ip=ip,
            action=SandboxAction.RESIZE,
            params={"remove": removed, "add": [n.pk for n in new_nodes], "nodes": target},
        )


def sandbox_delete(*, sandbox: Sandbox, actor: User, ip: str | None = None) -> Operation:
    """Accepted in every state but deleted: what is under way is cancelled and the delete's
    worker (which waits for that operation's worker to let go of the sandbox) removes whatever
    exists by then. Asked twice, the delete already under way is the answer. A queued sandbox,
    or one that expired in the queue, has nothing on any engine: it goes at once and its
    reservation is released."""
    with transaction.atomic():
        sandbox = _locked(sandbox)
        # A queued start has stopped containers on a host: those go through a delete operation.
        never_placed = not sandbox.nodes.filter(host__isnull=False).exists()
        was = sandbox.status
        if was in (SandboxStatus.QUEUED, SandboxStatus.ERROR) and never_placed:
            operation = sandbox_cancel_queued(sandbox=sandbox)
            audit_record(
                actor=actor,
                action="sandbox.delete",
                tenant=sandbox.tenant,
                target=sandbox,
                ip=ip,
                detail={"was": was},
            )
            return operation
        if sandbox.status == SandboxStatus.DELETING:
            under_way = sandbox.operations.active().filter(kind=SandboxAction.DELETE).first()
            if under_way is not None:
                return under_way
        _require(sandbox, SandboxAction.DELETE)
        return _operation(sandbox, actor=actor, ip=ip, action=SandboxAction.DELETE)


def _jobs_on_removed_nodes(sandbox: Sandbox, removed: list[int], *, actor, force: bool, ip) -> None:
    jobs = list(
        Job.objects.filter(sandbox=sandbox, status__in=JOB_ACTIVE, nodes__node_id__in=removed)
        .distinct()
        .order_by("pk")
    )
    if not jobs:
        return
    if not force:
        names = ", ".join(f"{job.pk} ({job.command[:60]!r})" for job in jobs)
        raise StateConflict(
            f"Job {names} runs on a node this resize removes; it would be killed. Wait for it to "
            'end, cancel it, or resize with "force": true to cancel it and resize.',
            jobs=[job.pk for job in jobs],
        )
    for job in jobs:
        job_cancel(job=job, actor=actor, ip=ip)


def _operation(sandbox, *, actor, ip, action, params=None) -> Operation:
    """Move the sandbox to the state the action goes through and record its operation; an
    action that supersedes cancels the operation in flight (race-safe: a worker closing it at
    the same moment either wins, and the sandbox is settled, or finds it cancelled and stops)."""
    if action in SANDBOX_SUPERSEDES:
        now = timezone.now()
        sandbox.operations.exclude(status__in=OPERATION_FINAL).update(
            status=OperationStatus.CANCELLED,
            explanation=f"Cancelled: {actor.username} asked to {action} the sandbox.",
            finished=now,
            updated=now,
        )
    sandbox.status = SANDBOX_TRANSITIONS[action].through
    sandbox.explanation = ""
    sandbox.save(update_fields=["status", "explanation", "updated"])
    operation = Operation.objects.create(
        sandbox=sandbox, kind=action, requested_by=actor, params=params or {}
    )
    audit_record(actor=actor, action=f"sandbox.{action}", tenant=sandbox.tenant, target=sandbox, ip=ip)
    operation_enqueue(operation)
    return operation


def _locked(sandbox: Sandbox) -> Sandbox:
    return (
        Sandbox.objects.select_for_update()
        .select_related("catalog_item", "tenant", "owner")
        .get(pk=sandbox.pk)
    )


def _require(sandbox: Sandbox, action: str) -> None:
    if sandbox_action_allowed(status=sandbox.status, action=action):
        return
    if sandbox.status in SANDBOX_BUSY:
        under_way = sandbox.operations.active().order_by("-pk").first()
        kind = under_way.kind if under_way else "create"
        raise OperationUnderWay(
            f"Sandbox {sandbox.name!r} is {sandbox.status}: its {kind} operation is under way. "
            f"Retry the {action} once it has ended"
            + (f" (follow it at /api/v1/operations/{under_way.pk}/)." if under_way else "."),
            operation=under_way.pk if under_way else None,
            retry_after=RETRY_AFTER_S,
        )
    names = ", ".join(sorted(SANDBOX_TRANSITIONS[action].allowed_from))
    raise StateConflict(f"Sandbox {sandbox.name!r} is {sandbox.status}; this needs it to be {names}.")


def _place_or_queue(nodes: list[Node], *, sandbox: Sandbox, **place_kwargs) -> bool:
    """Place the nodes now (True), or queue the sandbox (False); refuses what no host could
    ever take, even empty."""
    if why := launch_never_fits(sandbox=sandbox, nodes=nodes):
        raise NoCapacity(why)
    if not Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists():
        try:
            _place(nodes, sandbox=sandbox, **(place_kwargs or {"may_spread": True}))
            return True
        except NoCapacity:
            pass
    sandbox_queue(sandbox=sandbox)
    return False


def _place(nodes: list[Node], *, sandbox: Sandbox, **kwargs) -> None:
    try:
        placement = nodes_place(nodes=nodes, sandbox=sandbox, **kwargs)
    except PlacementError as exc:
        raise NoCapacity(str(exc)) from exc
    if placement.swarm and not sandbox.swarm:
        sandbox.swarm = placement.swarm
        sandbox.save(update_fields=["swarm"])


def _nodes_add(
    sandbox: Sandbox, counts: dict[str, int], start_after: dict[str, int] | None = None
) -> list[Node]:
    start_after = start_after or {}
    flavor = sandbox.flavor
    return [
        Node.objects.create(
            sandbox=sandbox,
            role=role,
            index=start_after.get(role, -1) + 1 + i,
            cpus=flavor.cpus,
            memory_mib=flavor.memory_mib,
        )
        for role, count in counts.items()
        for i in range(count)
    ]


def _sandbox_allocation(sandbox: Sandbox) -> AllocationRequest:
    return AllocationRequest(
        subject=sandbox.ledger_group,
        resources=slot_resources(flavor=sandbox.flavor),
        attributes={"catalog_item": sandbox.catalog_item.slug, "sandbox": sandbox.pk},
    )


def _node_allocation(node: Node) -> AllocationRequest:
    return AllocationRequest(
        subject=node.ledger_subject,
        resources=node_resources(cpus=node.cpus, memory_mib=node.memory_mib, gpus=node.sandbox.gpus_per_node),
        attributes={
            "catalog_item": node.sandbox.catalog_item.slug,
            "sandbox": node.sandbox_id,
            "node": node.pk,
        },
    )


def _validate_create(
    *,
    catalog_item: str,
    flavor: str,
    nodes: dict[str, int] | None,
    gpus_per_node: int,
    host_labels: dict[str, str],
):
    errors: dict[str, list[str]] = {}
    item = CatalogItem.objects.filter(slug=catalog_item).first()
    if item is None:
        errors["catalog_item"] = [f"No catalog item {catalog_item!r}."]
    elif not item.enabled:
        errors["catalog_item"] = [f"Catalog item {catalog_item!r} is disabled: it takes no new sandboxes."]
    flavor_obj = Flavor.objects.filter(name=flavor).first()
    if flavor_obj is None:
        errors["flavor"] = [f"No flavor {flavor!r}."]
    if gpus_per_node < 0:
        errors["gpus_per_node"] = ["Must be 0 or more."]
    elif gpus_per_node and item is not None and not item.gpu_capable:
        errors["gpus_per_node"] = [f"Catalog item {item.slug!r} cannot use GPUs."]
    counts = {}
    if item is not None:
        try:
            counts = _validate_counts(item, nodes)
        except InvalidRequest as exc:
            errors.update(exc.fields)
    labels = {}
    if problems := host_labels_problems(host_labels):
        errors["host_labels"] = problems
    elif item is not None:
        wanted = item.spec.host_labels
        clashes = [k for k, v in host_labels.items() if wanted.get(k, v) != v]
        if clashes:
            errors["host_labels"] = [
                f"{k}: catalog item {item.slug!r} runs only on hosts with {k}={wanted[k]}" for k in clashes
            ]
        labels = {**wanted, **host_labels}
    if errors:
        raise InvalidRequest(errors)
    return item, flavor_obj, counts, labels


def _validate_counts(item: CatalogItem, nodes: dict[str, int] | None) -> dict[str, int]:
    roles = item.spec.roles
    nodes = nodes or {}
    problems = [
        f"Unknown role {role!r}; {item.slug} has {', '.join(roles)}." for role in nodes if role not in roles
    ]
    counts = {}
    for role, spec in roles.items():
        count = nodes.get(role, spec.default_nodes)
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not spec.min_nodes <= count <= spec.max_nodes
        ):
            problems.append(f"Role {role!r} takes {spec.min_nodes} to {spec.max_nodes} nodes, not {count!r}.")
        counts[role] = count
    if problems:
        raise InvalidRequest({"nodes": problems})
    return {role: count for role, count in counts.items() if count}
