"""The launch queue: pure functions from queued launches, tenants' usage and shares and a host
inventory snapshot to the launches admitted now and where their nodes go. No Django here.

Order. Launches are taken tenant by fair-share factor (highest first), then first come within a
tenant. The factor is Slurm's classic fair-share factor

    F = 2 ** (-U / S)

where S is the tenant's `share` divided by the sum of the shares of all tenants, and U is the
tenant's usage divided by the whole site's usage; usage is the ledger's resources x time with
past intervals decayed by a half-life (Slurm's PriorityDecayHalfLife), so a tenant that used
much recently waits behind one that did not, and forgets it after a few half-lives. F is 1 for
a tenant with no recent usage, 0.5 for one that used exactly its share, and tends to 0 for one
far over it. It is chosen over dominant resource fairness because it remembers past use (a
tenant cannot burst, release and burst again ahead of the others) and because site admins know
it from Slurm. Factors are fixed for the length of one pass, as in Slurm.

Backfill. A launch that does not fit now does not block the smaller ones behind it (Slurm's
backfill, Kueue's BestEffortFIFO): each launch, in order, is placed if it fits in what is left.
A big launch may therefore wait while small ones take the room that frees; its wait is bounded
by the queue's maximum wait, after which it ends with an explanation.

Placement is `placement.place`, the function direct launches use. To keep one pass over
thousands of launches and hosts fast, hosts are indexed by free capacity inside the pass and
`place` is handed only the hosts that can matter: for a one-host fit, the best-fit host the
index finds (exactly the one `place` would pick from all hosts); for nodes spread over a swarm,
the hosts of swarms that can take at least the smallest node.
"""

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from provisioning.placement import HostSnapshot, NodeRequest, Placement, PlacementError, place


@dataclass(frozen=True)
class QueuedLaunch:
    id: int
    tenant: str
    arrived: datetime
    nodes: tuple[NodeRequest, ...]
    labels: dict = field(default_factory=dict)
    preemptible: bool = False
    # Totals over the nodes, summed once: a pass compares them with thousands of hosts.
    cpus: Decimal = field(init=False)
    memory_mib: int = field(init=False)
    gpus: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "cpus", sum((n.cpus for n in self.nodes), Decimal("0")))
        object.__setattr__(self, "memory_mib", sum(n.memory_mib for n in self.nodes))
        object.__setattr__(self, "gpus", sum(n.gpus for n in self.nodes))


@dataclass(frozen=True)
class Admission:
    """What one pass decided: placements of the admitted launches, in the order taken."""

    placements: dict[int, Placement]  # launch id -> where its nodes go
    order: list[QueuedLaunch]  # every launch of the pass, in fair-share order

    @property
    def admitted(self) -> list[QueuedLaunch]:
        return [launch for launch in self.order if launch.id in self.placements]

    @property
    def waiting(self) -> list[QueuedLaunch]:
        return [launch for launch in self.order if launch.id not in self.placements]


def fairshare_factors(*, usage: Mapping[str, float], shares: Mapping[str, float]) -> dict[str, float]:
    """F = 2 ** (-U/S) per tenant of `shares`; `usage` is decayed usage in any one unit (a
    tenant missing from it used nothing). A tenant with share 0 gets 0 unless nobody used anything."""
    total_share = sum(shares.values())
    total_usage = sum(usage.get(tenant, 0.0) for tenant in shares)
    factors = {}
    for tenant, share in shares.items():
        used = usage.get(tenant, 0.0) / total_usage if total_usage > 0 else 0.0
        normalised_share = share / total_share if total_share > 0 else 0.0
        if used == 0:
            factors[tenant] = 1.0
        elif normalised_share == 0:
            factors[tenant] = 0.0
        else:
            factors[tenant] = 2.0 ** (-used / normalised_share)
    return factors


def queue_order(launches: Iterable[QueuedLaunch], factors: Mapping[str, float]) -> list[QueuedLaunch]:
    """Fair share across tenants (highest factor first), then first come within a tenant. A
    tenant without a factor (none computed) goes last; ties fall back to arrival, then id."""
    return sorted(launches, key=lambda launch: (-factors.get(launch.tenant, -1.0), launch.arrived, launch.id))


def admit(
    *,
    launches: Iterable[QueuedLaunch],
    hosts: list[HostSnapshot],
    factors: Mapping[str, float],
    overcommit: Decimal = Decimal("1"),
) -> Admission:
    """One admission pass with backfill (see the module's docstring)."""
    order = queue_order(launches, factors)
    index = _FreeIndex(hosts, overcommit)
    placements: dict[int, Placement] = {}
    for launch in order:
        placement = index.place(launch)
        if placement is not None:
            placements[launch.id] = placement
            index.take(launch, placement)
    return Admission(placements=placements, order=order)


class _FreeIndex:
    """Hosts sorted by (free CPUs, free memory, id): the best-fit key of `place`, so the first
    host from the requested CPUs upwards that also has the memory, GPUs and labels is the one
    `place` would choose. Updated as launches take room; remembers request sizes that found no
    host, since within a pass free room only shrinks."""

    def __init__(self, hosts: list[HostSnapshot], overcommit: Decimal):
        self.overcommit = overcommit
        self.hosts = {h.id: h for h in hosts}
        # host id -> (free CPUs, free memory, free GPUs), kept beside the snapshots so that
        # scanning thousands of hosts compares plain tuples.
        self.free = {h.id: self._free(h) for h in hosts}
        self.keys = sorted((cpus, memory, host_id) for host_id, (cpus, memory, _) in self.free.items())
        self.swarms: dict[str, list[int]] = {}
        for h in hosts:
            if h.swarm:
                self.swarms.setdefault(h.swarm, []).append(h.id)
        self.too_big: dict[tuple, list[tuple[Decimal, int, int]]] = {}

    def _free(self, host: HostSnapshot) -> tuple[Decimal, int, int]:
        return (host.free_cpus(self.overcommit), host.free_memory_mib, len(host.free_gpu_uuids))

    def place(self, launch: QueuedLaunch) -> Placement | None:
        placement = self._one_host(launch)
        if placement is None and len(launch.nodes) > 1:
            placement = self._spread(launch)
        return placement

    def _one_host(self, launch: QueuedLaunch) -> Placement | None:
        labels = tuple(sorted(launch.labels.items()))
        cpus, memory, gpus = size = (launch.cpus, launch.memory_mib, launch.gpus)
        for failed_cpus, failed_memory, failed_gpus in self.too_big.get(labels, ()):
            if cpus >= failed_cpus and memory >= failed_memory and gpus >= failed_gpus:
                return None
        keys, free, hosts = self.keys, self.free, self.hosts
        for i in range(bisect.bisect_left(keys, (cpus,)), len(keys)):
            _cpus, free_memory, host_id = keys[i]
            if free_memory < memory or free[host_id][2] < gpus:
                continue
            host = hosts[host_id]
            if labels and any(host.labels.get(k) != v for k, v in labels):
                continue
            return self._place(launch, [host], may_spread=False)
        self.too_big.setdefault(labels, []).append(size)
        return None

    def _spread(self, launch: QueuedLaunch) -> Placement | None:
        # A host short of the least any node asks, in any dimension, can take none of them.
        cpus = min(n.cpus for n in launch.nodes)
        memory = min(n.memory_mib for n in launch.nodes)
        gpus = min(n.gpus for n in launch.nodes)
        free = self.free
        candidates = [
            self.hosts[i]
            for ids in self.swarms.values()
            for i in ids
            if free[i][0] >= cpus and free[i][1] >= memory and free[i][2] >= gpus
        ]
        if not candidates:
            return None
        return self._place(launch, candidates, may_spread=True)

    def _place(
        self, launch: QueuedLaunch, hosts: list[HostSnapshot], *, may_spread: bool
    ) -> Placement | None:
        try:
            return place(
                nodes=list(launch.nodes),
                hosts=hosts,
                overcommit=self.overcommit,
                labels=launch.labels,
                may_spread=may_spread,
            )
        except PlacementError:
            return None

    def take(self, launch: QueuedLaunch, placement: Placement) -> None:
        nodes = {n.key: n for n in launch.nodes}
        for host_id in set(placement.host_ids.values()):
            host = self.hosts[host_id]
            on_host = [nodes[key] for key, h in placement.host_ids.items() if h == host_id]
            taken = replace(
                host,
                used_cpus=host.used_cpus + sum((n.cpus for n in on_host), Decimal("0")),
                used_memory_mib=host.used_memory_mib + sum(n.memory_mib for n in on_host),
                used_gpu_uuids=host.used_gpu_uuids.union(*(placement.gpu_uuids[n.key] for n in on_host)),
            )
            before = self.free[host_id]
            del self.keys[bisect.bisect_left(self.keys, (before[0], before[1], host_id))]
            after = self.free[host_id] = self._free(taken)
            bisect.insort(self.keys, (after[0], after[1], host_id))
            self.hosts[host_id] = taken


def estimated_wait_s(*, position: int, remaining_s: list[float], typical_s: float | None) -> float | None:
    """Seconds until a launch `position` places from the front (1: next) can start, if each
    sandbox of its size that runs now ends after `remaining_s` and each later one lasts
    `typical_s` (the median of finished ones). None, meaning unknown, when nothing finished yet."""
    if typical_s is None:
        return None
    ends = sorted(remaining_s)
    if position <= len(ends):
        return ends[position - 1]
    slots = max(len(ends), 1)
    rounds = math.ceil((position - len(ends)) / slots)
    return (ends[-1] if ends else 0.0) + rounds * typical_s
