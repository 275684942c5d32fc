"""Host reservations: a snapshot of the ready hosts (rows locked) fed to the placement policy
(provisioning.placement), so that placing nodes is atomic with the transaction that creates or
grows a sandbox."""

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from provisioning.models import Host, Node
from provisioning.placement import HostSnapshot, NodeRequest, Placement, place_sandbox
from provisioning.pool_selectors import pool_usage_by_host
from provisioning.selectors import host_gpus_in_use

#: Other apps' containers that hold cpus and memory on hosts (an endpoint's replicas): each
#: callable takes host ids and answers {host id: (cpus, memory_mib)}. Registered by those apps
#: in their AppConfig.ready, as provisioning imports none of them.
_HOST_USAGE: list[Callable[[list[int]], dict[int, tuple[Decimal, int]]]] = []


def register_host_usage(usage: Callable[[list[int]], dict[int, tuple[Decimal, int]]]) -> None:
    if usage not in _HOST_USAGE:
        _HOST_USAGE.append(usage)


def hosts_snapshot(*, lock: bool, host_ids: list[int] | None = None) -> list[HostSnapshot]:
    hosts = Host.objects.filter(state=Host.State.READY).order_by("pk")
    if host_ids is not None:
        hosts = hosts.filter(pk__in=host_ids)
    if lock:
        hosts = hosts.select_for_update()
    hosts = list(hosts)
    holding = Node.objects.holding().filter(host__in=hosts)
    used = {
        row["host"]: row
        for row in holding.values("host").annotate(cpus=Sum("cpus"), memory_mib=Sum("memory_mib"))
    }
    used_gpus = host_gpus_in_use(host_ids=[h.pk for h in hosts])
    ids = [h.pk for h in hosts]
    # Warm pooled nodes, and other apps' containers (an endpoint's replicas), hold room too.
    for by_host in [pool_usage_by_host(host_ids=ids), *(usage(ids) for usage in _HOST_USAGE)]:
        for host_id, (cpus, memory_mib) in by_host.items():
            row = used.setdefault(host_id, {"cpus": Decimal("0"), "memory_mib": 0})
            row["cpus"] = (row["cpus"] or Decimal("0")) + cpus
            row["memory_mib"] = (row["memory_mib"] or 0) + memory_mib
    return [
        HostSnapshot(
            id=h.pk,
            name=h.name,
            cpus=h.cpus,
            memory_mib=h.memory_mib,
            gpu_uuids=tuple(g["uuid"] for g in h.gpus),
            labels=h.labels,
            used_cpus=used.get(h.pk, {}).get("cpus") or Decimal("0"),
            used_memory_mib=used.get(h.pk, {}).get("memory_mib") or 0,
            used_gpu_uuids=frozenset(used_gpus.get(h.pk, ())),
            swarm=h.swarm,
        )
        for h in hosts
    ]


def nodes_place(
    *,
    nodes: list[Node],
    sandbox,
    prefer_host_id: int | None = None,
    only_host_id: int | None = None,
    may_spread: bool = False,
) -> Placement:
    """Assign a host (and GPUs) to each node and save them, by provisioning.placement's policy.
    Call inside the transaction that created the nodes; raises PlacementError, which rolls
    everything back. The hosts' rows stay locked until then, so placements never race."""
    only_here = only_host_id is not None and not sandbox.swarm
    placement = place_sandbox(
        nodes=[
            NodeRequest(
                key=str(n.pk), cpus=Decimal(n.cpus), memory_mib=n.memory_mib, gpus=sandbox.gpus_per_node
            )
            for n in nodes
        ],
        # Growing in place locks only the sandbox's own host.
        hosts=hosts_snapshot(lock=True, host_ids=[only_host_id] if only_here else None),
        overcommit=Decimal(settings.CPU_OVERCOMMIT),
        labels=sandbox.host_labels,
        swarm=sandbox.swarm,
        prefer_host_id=prefer_host_id,
        only_host_id=only_host_id,
        may_spread=may_spread,
    )
    for node in nodes:
        node.host_id = placement.host_ids[str(node.pk)]
        node.gpu_uuids = placement.gpu_uuids[str(node.pk)]
        node.save(update_fields=["host", "gpu_uuids"])
    return placement
