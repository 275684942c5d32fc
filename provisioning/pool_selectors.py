"""Reads of the warm pool: what pooled nodes hold on each host (placement counts it), which
Docker objects are the pool's (the reconciler leaves them alone), and the figures the Hosts
page, the API and /metrics show."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from catalog.models import CatalogItem
from provisioning.models import Host, PoolNode, PoolSetting, Sandbox
from provisioning.states import POOL_HOLDS_HOST, POOL_OWNS_OBJECTS, PoolNodeStatus


def pool_role(item: CatalogItem) -> str | None:
    """The role a pooled node of `item` plays, or None when a pool cannot serve its launches:
    only a one-node sandbox (an item with one role that may run one node) claims a pooled node."""
    roles = item.spec.roles
    if len(roles) != 1:
        return None
    ((name, role),) = roles.items()
    return name if role.min_nodes <= 1 <= role.max_nodes else None


def pool_usage_by_host(*, host_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """host id -> (cpus, memory_mib) its pooled nodes hold: room no launch may take twice."""
    rows = (
        PoolNode.objects.filter(host_id__in=host_ids, status__in=POOL_HOLDS_HOST)
        .order_by()
        .values("host_id")
        .annotate(cpus=Sum("cpus"), memory_mib=Sum("memory_mib"))
    )
    return {row["host_id"]: (row["cpus"] or Decimal("0"), row["memory_mib"] or 0) for row in rows}


def pool_objects_kept(*, host: Host, sandbox_ids: set[int]) -> set[str]:
    """Names of the pool's containers, networks and volumes on `host` that must stay, and the
    pooled workspaces that became the volumes of these sandboxes (engine volumes keep the name
    they were made with)."""
    kept = set()
    for pool_node in PoolNode.objects.filter(host=host, status__in=POOL_OWNS_OBJECTS).only("pk"):
        kept |= {pool_node.container_name, pool_node.network_name, pool_node.workspace_volume}
    kept |= set(
        Sandbox.objects.filter(pk__in=sandbox_ids)
        .exclude(pooled_workspace="")
        .values_list("pooled_workspace", flat=True)
    )
    return kept


@dataclass
class PoolView:
    """One pool setting with its nodes per host and status: what the page and the API show."""

    setting: PoolSetting
    hosts: dict[str, dict[str, int]] = field(default_factory=dict)  # host name -> status -> count

    @property
    def ready(self) -> int:
        return sum(counts.get(PoolNodeStatus.READY, 0) for counts in self.hosts.values())

    @property
    def starting(self) -> int:
        return sum(counts.get(PoolNodeStatus.STARTING, 0) for counts in self.hosts.values())


def pool_list() -> list[PoolView]:
    """Every pool setting, with its live pooled nodes counted per host and status."""
    views = {s.pk: PoolView(setting=s) for s in PoolSetting.objects.select_related("catalog_item", "flavor")}
    rows = (
        PoolNode.objects.filter(status__in=POOL_HOLDS_HOST)
        .order_by()
        .values("setting_id", "host__name", "status")
        .annotate(count=Count("pk"))
    )
    for row in rows:
        views[row["setting_id"]].hosts.setdefault(row["host__name"], {})[row["status"]] = row["count"]
    return list(views.values())
