"""Placement: a pure function from a request and an inventory snapshot to a host per node.

Every node of a sandbox goes to the same host: the sandbox network is a bridge network of that
host's engine (see the issue note on swarm overlays). Among the hosts that fit, the fullest one
wins (best-fit bin-packing), which keeps big hosts free for big requests.
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
    host_id: int
    gpu_uuids: dict[str, list[str]]  # node key -> GPUs assigned to it


class PlacementError(Exception):
    """No host can take the request; the message says why, for the user."""


def place(
    *,
    nodes: list[NodeRequest],
    hosts: list[HostSnapshot],
    overcommit: Decimal = Decimal("1"),
    labels: dict | None = None,
) -> Placement:
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
    fitting = [
        h
        for h in candidates
        if h.free_cpus(overcommit) >= cpus and h.free_memory_mib >= memory and len(h.free_gpu_uuids) >= gpus
    ]
    if not fitting:
        raise PlacementError(_why_nothing_fits(candidates, overcommit, cpus=cpus, memory=memory, gpus=gpus))

    best = min(fitting, key=lambda h: (h.free_cpus(overcommit) - cpus, h.free_memory_mib - memory, h.id))
    free_gpus = iter(best.free_gpu_uuids)
    return Placement(
        host_id=best.id,
        gpu_uuids={n.key: [next(free_gpus) for _ in range(n.gpus)] for n in nodes},
    )


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
