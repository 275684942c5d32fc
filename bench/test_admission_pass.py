"""Benchmark: one queue admission pass over 10,000 queued launches and 5,000 hosts, on one core,
beside placing the same launches one by one with `place` over every host (what a pass without
its free-capacity index would cost), measured on the first launches only and scaled. Goal
(DESIGN.md): the pass in at most 1 s. No Docker, no database: the pure core alone. Run with
`make bench` or `pytest bench/test_admission_pass.py -s`; results are printed and written to
var/bench/admission_pass.json. It measures; it asserts only that the pass admits what placing
each launch in turn admits."""

import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from provisioning.placement import HostSnapshot, NodeRequest, PlacementError, place
from provisioning.queue import QueuedLaunch, admit, fairshare_factors, queue_order

HOSTS = 5_000
LAUNCHES = 10_000
TENANTS = 40
BASELINE_LAUNCHES = 200
ROUNDS = 3
RESULTS = Path(__file__).resolve().parent.parent / "var" / "bench" / "admission_pass.json"
OVERCOMMIT = Decimal("2")


def _site(seed: int = 17):
    """A busy site: hosts mostly full (a queue only exists when they are), a few with GPUs, labels
    and swarms; launches of mixed sizes, a tenth of them clusters, some asking for GPUs or labels."""
    rng = random.Random(seed)
    hosts = []
    for i in range(HOSTS):
        gpus = 4 if i % 50 == 0 else 0
        cpus = rng.choice([16, 32, 64])
        memory = cpus * 4096
        used_cpus = Decimal(rng.randint(cpus * 2 - 8, cpus * 2))
        hosts.append(
            HostSnapshot(
                id=i,
                name=f"h{i}",
                cpus=cpus,
                memory_mib=memory,
                gpu_uuids=tuple(f"GPU-{i}-{g}" for g in range(gpus)),
                labels={"zone": "b"} if i % 10 == 0 else {},
                used_cpus=used_cpus,
                used_memory_mib=min(memory, int(used_cpus) * 2048),
                used_gpu_uuids=frozenset(f"GPU-{i}-{g}" for g in range(gpus) if rng.random() < 0.7),
                swarm=f"swarm-{i % 25}" if i % 5 == 0 else "",
            )
        )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    launches = []
    for i in range(LAUNCHES):
        nodes = rng.choice([1] * 9 + [4])
        cpus = Decimal(rng.choice(["0.5", "1", "2", "4", "8"]))
        gpus = 1 if rng.random() < 0.05 else 0
        launches.append(
            QueuedLaunch(
                id=i,
                tenant=f"t{rng.randrange(TENANTS)}",
                arrived=start + timedelta(seconds=i),
                nodes=tuple(
                    NodeRequest(key=f"{i}-{n}", cpus=cpus, memory_mib=int(cpus * 2048), gpus=gpus)
                    for n in range(nodes)
                ),
                labels={"zone": "b"} if rng.random() < 0.1 else {},
            )
        )
    usage = {f"t{t}": rng.random() * 1000 for t in range(TENANTS)}
    shares = {f"t{t}": rng.choice([1, 1, 2, 5]) for t in range(TENANTS)}
    return hosts, launches, fairshare_factors(usage=usage, shares=shares)


def _one_by_one(launches, hosts, factors, count):
    hosts = {h.id: h for h in hosts}
    admitted = {}
    for q in queue_order(launches, factors)[:count]:
        try:
            placement = place(
                nodes=list(q.nodes), hosts=list(hosts.values()), overcommit=OVERCOMMIT, labels=q.labels
            )
        except PlacementError:
            continue
        admitted[q.id] = placement
        for node in q.nodes:
            h = hosts[placement.host_ids[node.key]]
            hosts[h.id] = replace(
                h,
                used_cpus=h.used_cpus + node.cpus,
                used_memory_mib=h.used_memory_mib + node.memory_mib,
                used_gpu_uuids=h.used_gpu_uuids | set(placement.gpu_uuids[node.key]),
            )
    return admitted


def test_admission_pass_over_10000_launches_and_5000_hosts():
    hosts, launches, factors = _site()

    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        admission = admit(launches=launches, hosts=hosts, factors=factors, overcommit=OVERCOMMIT)
        timings.append(time.perf_counter() - started)
    best = min(timings)

    # The same launches the plain way, only the first ones: all 10,000 would take minutes.
    first = queue_order(launches, factors)[:BASELINE_LAUNCHES]
    started = time.perf_counter()
    plain = _one_by_one(launches, hosts, factors, BASELINE_LAUNCHES)
    plain_s = (time.perf_counter() - started) * LAUNCHES / BASELINE_LAUNCHES
    assert {q.id for q in first if q.id in admission.placements} == set(plain)

    result = {
        "launches": LAUNCHES,
        "hosts": HOSTS,
        "admitted": len(admission.placements),
        "pass_s": round(best, 4),
        "pass_s_rounds": [round(t, 4) for t in timings],
        "goal_s": 1.0,
        "one_by_one_estimated_s": round(plain_s, 2),
        "speedup": round(plain_s / best, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(
        f"\nadmission pass: {LAUNCHES} launches over {HOSTS} hosts in {best:.3f} s "
        f"(goal <= 1 s; {result['admitted']} admitted); placing one by one over every host: "
        f"~{plain_s:.1f} s (x{result['speedup']})"
    )
