"""Reads of provisioning data for the UI and the API."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from catalog.models import Flavor
from provisioning.drivers import DriverError, driver_for_host
from provisioning.models import (
    DataTap,
    Host,
    HostPathPrefix,
    Job,
    JobNode,
    Node,
    Operation,
    OperationPhase,
    Sandbox,
)
from provisioning.quota_charges import launch_resources
from provisioning.states import NODE_FINAL, NODE_RELEASED, NodeStatus, SandboxStatus, sandbox_actions_allowed
from tenants.models import Membership, Tenant
from tenants.resources import DIMENSIONS
from tenants.selectors.memberships import user_can_admin_tenant
from tenants.selectors.usage import tenant_quota, tenant_usage


def sandbox_list(*, user) -> QuerySet[Sandbox]:
    # The caller's admin right over each sandbox's tenant comes with the rows, so that `actions`
    # costs no query per sandbox (sandbox_can_manage reads it for the user it was listed for).
    admin_of_tenant = Membership.objects.filter(
        tenant=OuterRef("tenant"), user_id=user.pk, role=Membership.Role.ADMIN
    )
    return (
        Sandbox.objects.visible_to(user)
        .annotate(
            listed_for=Value(user.pk, output_field=IntegerField()), listed_for_admin=Exists(admin_of_tenant)
        )
        .select_related("tenant", "owner", "catalog_item", "flavor")
        .prefetch_related(
            Prefetch("nodes", queryset=Node.objects.select_related("host").order_by("role", "index")),
            Prefetch("datataps", queryset=DataTap.objects.order_by("name")),
        )
    )


def sandbox_endpoints(*, sandbox: Sandbox) -> list[dict]:
    """The web services of running nodes, as the manifest declares them, each at its gateway
    URL: a browser never gets a node's own address (DESIGN rule 9). Other protocols (SSH) are
    reached from inside the sandbox only, so they are not endpoints."""
    if sandbox.status != SandboxStatus.RUNNING:
        return []
    roles = sandbox.catalog_item.spec.roles
    endpoints = []
    for node in sandbox.nodes.all():
        if node.status != NodeStatus.RUNNING:
            continue
        role = roles.get(node.role)
        for service in role.services if role else ():
            if service.protocol != "http":
                continue
            endpoints.append(
                {
                    "service": service.name,
                    "node": node.hostname,
                    "url": f"{settings.GATEWAY_URL}{node.gateway_prefix}{service.name}{service.path or '/'}",
                    "main": service.main,
                }
            )
    return endpoints


def datatap_list(*, user) -> QuerySet[DataTap]:
    """The DataTaps of the user's tenants, each with the sandboxes (not deleted) that use it."""
    return (
        DataTap.objects.visible_to(user)
        .select_related("tenant", "created_by")
        .prefetch_related(
            Prefetch(
                "sandboxes",
                queryset=Sandbox.objects.live().order_by("name"),
                to_attr="live_sandboxes",
            )
        )
    )


def hostpath_prefix_list() -> QuerySet[HostPathPrefix]:
    return HostPathPrefix.objects.select_related("created_by")


def sandbox_operations(*, sandbox: Sandbox, limit: int = 10) -> list[Operation]:
    """The sandbox's latest operations, newest first."""
    return list(sandbox.operations.select_related("requested_by").order_by("-created")[:limit])


@dataclass(frozen=True)
class PhaseMark:
    """A milestone an operation passed: when, and how long after the one before it."""

    phase: str
    label: str
    at: datetime
    took_s: float


def operation_phases(*, operation: Operation) -> list[PhaseMark]:
    marks, previous = [], None
    for entry in operation.phases:
        at = datetime.fromisoformat(entry["at"])
        took = (at - previous).total_seconds() if previous else 0.0
        marks.append(PhaseMark(entry["phase"], OperationPhase(entry["phase"]).label, at, round(took, 3)))
        previous = at
    return marks


def node_logs(*, node: Node, tail: int = 200) -> str:
    """The last lines a node's container printed; empty when it has no host or container yet.
    An engine that does not answer gives its error as the text, so the page says why."""
    if node.host is None:
        return ""
    try:
        return driver_for_host(node.host, timeout=10).logs(name=node.container_name, tail=tail)
    except DriverError as exc:
        return f"The host {node.host.name} did not give the logs: {exc}"


@dataclass(frozen=True)
class QuotaLine:
    """One quota dimension of a launch check: what the tenant holds, what the launch asks."""

    name: str
    limit: object
    in_use: object
    asked: object

    @property
    def over(self) -> bool:
        return bool(self.asked) and self.in_use + self.asked > self.limit


def sandbox_launch_check(
    *, tenant: Tenant, flavor: Flavor, nodes: dict[str, int], gpus_per_node: int = 0
) -> list[QuotaLine]:
    """What a launch would hold against the tenant's quota, dimension by dimension (counted by
    provisioning.quota_charges, as sandbox_create reserves it). Advice for the form only: quota_reserve
    decides, under lock, when the launch is made."""
    asked = launch_resources(flavor=flavor, node_count=sum(nodes.values()), gpus_per_node=gpus_per_node)
    quota, usage = tenant_quota(tenant=tenant), tenant_usage(tenant=tenant)
    return [
        QuotaLine(
            name=name, limit=getattr(quota, name), in_use=getattr(usage, name), asked=getattr(asked, name)
        )
        for name in DIMENSIONS
    ]


def host_list() -> QuerySet[Host]:
    """Every host with what its nodes hold (cpus, memory, node count), in one query."""
    holding = ~Q(nodes__status__in=NODE_RELEASED)
    return Host.objects.annotate(
        used_cpus=Coalesce(Sum("nodes__cpus", filter=holding), Decimal("0")),
        used_memory_mib=Coalesce(Sum("nodes__memory_mib", filter=holding), 0),
        node_count=Count("nodes", filter=holding),
    ).order_by("name")


def sandbox_can_manage(*, user, sandbox: Sandbox) -> bool:
    """Its owner, a tenant admin of its tenant or a site admin may change a sandbox."""
    if sandbox.owner_id == user.pk:
        return True
    if getattr(sandbox, "listed_for", None) == user.pk:
        return user.is_site_admin or sandbox.listed_for_admin
    return user_can_admin_tenant(user=user, tenant=sandbox.tenant)


def sandbox_actions(*, user, sandbox: Sandbox) -> list[str]:
    """The actions `user` may ask of the sandbox now: those its state allows (the transition
    table), when the user may manage it at all. The API's `actions` and the page's buttons."""
    if not sandbox_can_manage(user=user, sandbox=sandbox):
        return []
    return sandbox_actions_allowed(status=sandbox.status)


def sandbox_change_stamp(*, sandbox: Sandbox) -> str:
    """A short digest of the sandbox's state that changes whenever a worker moves it on: its
    status and explanation, its nodes (status, address, host, size) and its latest operations
    (status, progress, phases). A page that watches a launch asks with the stamp it shows and is
    answered "nothing new" while it holds, without rendering anything. `sandbox` as sandbox_list
    gives it (nodes prefetched): one query more, for the operations."""
    operations = list(
        sandbox.operations.order_by("-created").values_list(
            "pk", "status", "progress_done", "progress_total", "progress_message", "explanation", "updated"
        )[:10]
    )
    nodes = sorted(
        (n.pk, n.status, n.ip, n.host_id, str(n.cpus), n.memory_mib, n.explanation)
        for n in sandbox.nodes.all()
    )
    seen = (sandbox.status, sandbox.updated, sandbox.explanation, sandbox.preemption, nodes, operations)
    return hashlib.blake2b(repr(seen).encode(), digest_size=8).hexdigest()


def sandbox_live_nodes(*, sandbox: Sandbox) -> list[Node]:
    """The sandbox's nodes not removed, read from what sandbox_list prefetched."""
    return [n for n in sandbox.nodes.all() if n.status not in NODE_FINAL]


def job_can_cancel(*, user, job: Job) -> bool:
    """Who started a job may cancel it, and so may whoever manages its sandbox."""
    return job.requested_by_id == user.pk or sandbox_can_manage(user=user, sandbox=job.sandbox)


@dataclass(frozen=True)
class HostUtilisation:
    """A host's capacity against what its nodes hold (stopped and deleted nodes hold nothing)."""

    host: Host
    cpus_allocatable: Decimal  # cores x PORTAL_CPU_OVERCOMMIT
    cpus_allocated: Decimal
    memory_mib_allocated: int
    gpus_allocated: int
    nodes: int

    @property
    def gpus_total(self) -> int:
        return len(self.host.gpus)


def host_gpus_in_use(*, host_ids: list[int] | None = None) -> dict[int, set[str]]:
    """Host id -> the UUIDs of its GPUs that nodes hold."""
    holding = Node.objects.holding().exclude(gpu_uuids=[])
    if host_ids is not None:
        holding = holding.filter(host__in=host_ids)
    in_use: dict[int, set[str]] = {}
    for host_id, uuids in holding.values_list("host", "gpu_uuids"):
        in_use.setdefault(host_id, set()).update(uuids)
    return in_use


def host_utilisation_list() -> list[HostUtilisation]:
    """Every host, for the site admins' usage page and /metrics."""
    in_use = host_gpus_in_use()
    overcommit = Decimal(settings.CPU_OVERCOMMIT)
    return [
        HostUtilisation(
            host=host,
            cpus_allocatable=host.cpus * overcommit,
            cpus_allocated=host.used_cpus,
            memory_mib_allocated=host.used_memory_mib,
            gpus_allocated=len(in_use.get(host.pk, ())),
            nodes=host.node_count,
        )
        for host in host_list()
    ]


def job_list(*, user) -> QuerySet[Job]:
    """The jobs of the user's tenants, each with its nodes in rank order."""
    return (
        Job.objects.visible_to(user)
        .select_related("sandbox", "requested_by")
        .prefetch_related(Prefetch("nodes", queryset=JobNode.objects.select_related("node").order_by("rank")))
    )


def job_node_log(*, process: JobNode, offset: int | None = None) -> tuple[str, int]:
    """A node's log from `offset` (a position in everything it printed; None: all that is kept)
    and the position where it ends, to ask from next time."""
    end = process.log_dropped + len(process.log)
    if offset is None:
        return process.log, end
    return process.log[max(0, offset - process.log_dropped) :], end
