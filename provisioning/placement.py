"""Placement: pure functions from a request and an inventory snapshot to a host per node.

A sandbox goes to one host when one can take all its nodes: its network is then a bridge of
that host's engine, the simplest and fastest. Among the hosts that fit, the fullest one wins
(best-fit bin-packing), which keeps big hosts free for big requests. When no single host fits,
the nodes may spread over the hosts of one Docker swarm, joined by an overlay network; each node
then goes, biggest first, to the fullest host of that swarm that can take it.
"""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class HostSnapshot:
    id: int
    name: str
    cpus: int
    memory_mib: int
    gpu_uuids: tuple[str, ...] = ()
    labels: dict = field(default_factory=dict)
    used_cpus: Decimal = Decimal("0")
    used_memory_mib: int = 0
    used_gpu_uuids: frozenset[str] = frozenset()
    swarm: str = ""

    def free_cpus(self, overcommit: Decimal) -> Decimal:
        return Decimal(self.cpus) * overcommit - self.used_cpus

    @property
    def free_memory_mib(self) -> int:
        return self.memory_mib - self.used_memory_mib

    @property
    def free_gpu_uuids(self) -> list[str]:
        return [uuid for uuid in self.gpu_uuids if uuid not in self.used_gpu_uuids]


@dataclass(frozen=True)
class NodeRequest:
    key: str
    cpus: Decimal
    memory_mib: int
    gpus: int = 0


@dataclass(frozen=True)
class Placement:
    host_ids: dict[str, int]  # node key -> its host
    gpu_uuids: dict[str, list[str]]  # node key -> GPUs assigned to it
    swarm: str = ""  # set when the nodes span hosts of this swarm

    @property
    def spans_hosts(self) -> bool:
        return len(set(self.host_ids.values())) > 1

    @property
    def host_id(self) -> int:
        """The host, when every node is on one."""
        (only,) = set(self.host_ids.values())
        return only


class PlacementError(Exception):
    """No host can take the request; the message says why, for the user."""


def place(
    *,
    nodes: list[NodeRequest],
    hosts: list[HostSnapshot],
    overcommit: Decimal = Decimal("1"),
    labels: dict | None = None,
    swarm: str = "",
    may_spread: bool = True,
) -> Placement:
    """`swarm`: the nodes must go to hosts of this swarm (a sandbox that already spans it).
    Otherwise one host if any fits, else (`may_spread`) the hosts of any one swarm."""
    if not nodes:
        raise PlacementError("Nothing to place.")
    labels = labels or {}
    cpus = sum((n.cpus for n in nodes), Decimal("0"))
    memory = sum(n.memory_mib for n in nodes)
    gpus = sum(n.gpus for n in nodes)

    candidates = [h for h in hosts if all(h.labels.get(k) == v for k, v in labels.items())]
    if not candidates:
        wanted = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        raise PlacementError(f"No ready host has the labels {wanted}.")
    if swarm:
        spread = _spread(nodes, [h for h in candidates if h.swarm == swarm], overcommit)
        if spread is None:
            raise PlacementError(
                "The hosts of this sandbox's swarm cannot take these nodes: "
                + _why_nothing_fits(candidates, overcommit, cpus=cpus, memory=memory, gpus=gpus)
            )
        return spread
    fitting = [
        h
        for h in candidates
        if h.free_cpus(overcommit) >= cpus and h.free_memory_mib >= memory and len(h.free_gpu_uuids) >= gpus
    ]
    if fitting:
        best = min(fitting, key=lambda h: (h.free_cpus(overcommit) - cpus, h.free_memory_mib - memory, h.id))
        free_gpus = iter(best.free_gpu_uuids)
        return Placement(
            host_ids={n.key: best.id for n in nodes},
            gpu_uuids={n.key: [next(free_gpus) for _ in range(n.gpus)] for n in nodes},
        )
    if len(nodes) > 1 and may_spread:
        for key in sorted({h.swarm for h in candidates if h.swarm}):
            spread = _spread(nodes, [h for h in candidates if h.swarm == key], overcommit)
            if spread is not None:
                return spread
    raise PlacementError(_why_nothing_fits(candidates, overcommit, cpus=cpus, memory=memory, gpus=gpus))


def place_sandbox(
    *,
    nodes: list[NodeRequest],
    hosts: list[HostSnapshot],
    overcommit: Decimal = Decimal("1"),
    labels: dict | None = None,
    swarm: str = "",
    prefer_host_id: int | None = None,
    only_host_id: int | None = None,
    may_spread: bool = False,
) -> Placement:
    """Where a sandbox's new nodes go. `only_host_id`: the one host of a sandbox that does not
    span a swarm (it grows there or not at all). `prefer_host_id`: tried first (a stopped
    sandbox restarts where its workspace is), then any host. A sandbox that spans a swarm
    places within it; `may_spread` lets a new sandbox span one."""

    def fit(candidates: list[HostSnapshot], *, spread: bool = False) -> Placement:
        return place(
            nodes=nodes,
            hosts=candidates,
            overcommit=overcommit,
            labels=labels,
            swarm=swarm,
            may_spread=spread,
        )

    if only_host_id is not None and not swarm:
        only = [h for h in hosts if h.id == only_host_id]
        if not only:
            raise PlacementError("The sandbox's host is not ready: it takes no new nodes.")
        return fit(only)
    if not hosts:
        raise PlacementError("No Docker host is ready to take sandboxes.")
    preferred = [h for h in hosts if h.id == prefer_host_id]
    if preferred and not swarm:
        try:
            return fit(preferred)
        except PlacementError:
            pass
    return fit(hosts, spread=may_spread)


def _room_for(room: list, node: NodeRequest) -> bool:
    cpus, memory_mib, gpu_uuids = room
    return cpus >= node.cpus and memory_mib >= node.memory_mib and len(gpu_uuids) >= node.gpus


def _spread(nodes: list[NodeRequest], hosts: list[HostSnapshot], overcommit: Decimal) -> Placement | None:
    """Best fit node by node, biggest node first, over the hosts of one swarm; None if one does
    not fit anywhere."""
    free = {h.id: [h.free_cpus(overcommit), h.free_memory_mib, list(h.free_gpu_uuids)] for h in hosts}
    host_ids, gpu_uuids = {}, {}
    for node in sorted(nodes, key=lambda n: (n.gpus, n.cpus, n.memory_mib), reverse=True):
        fits = [h for h in hosts if _room_for(free[h.id], node)]
        if not fits:
            return None
        best = min(fits, key=lambda h: (free[h.id][0] - node.cpus, free[h.id][1] - node.memory_mib, h.id))
        room = free[best.id]
        room[0] -= node.cpus
        room[1] -= node.memory_mib
        gpu_uuids[node.key], room[2] = room[2][: node.gpus], room[2][node.gpus :]
        host_ids[node.key] = best.id
    swarm = hosts[0].swarm if len(set(host_ids.values())) > 1 else ""
    return Placement(host_ids=host_ids, gpu_uuids=gpu_uuids, swarm=swarm)


def _why_nothing_fits(hosts: list[HostSnapshot], overcommit: Decimal, *, cpus, memory, gpus) -> str:
    most_cpus = max(h.free_cpus(overcommit) for h in hosts)
    most_memory = max(h.free_memory_mib for h in hosts)
    most_gpus = max(len(h.free_gpu_uuids) for h in hosts)
    reasons = []
    if most_cpus < cpus:
        reasons.append(f"{_num(cpus)} CPUs asked, at most {_num(most_cpus)} free on one host")
    if most_memory < memory:
        reasons.append(f"{memory} MiB of memory asked, at most {most_memory} MiB free on one host")
    if most_gpus < gpus:
        reasons.append(f"{gpus} GPUs asked, at most {most_gpus} free on one host")
    if not reasons:
        reasons.append("no single host has the CPUs, memory and GPUs free together")
    return "No host can take this sandbox: " + "; ".join(reasons) + "."


def _num(value: Decimal) -> str:
    """3.00 -> 3, 2.50 -> 2.5"""
    return f"{Decimal(value).normalize():f}"
