"""The pure queue core: fair-share factors and the admission pass, against a plain reference."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.placement import HostSnapshot, NodeRequest, PlacementError, place
from provisioning.queue import QueuedLaunch, admit, estimated_wait_s, fairshare_factors, queue_order

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def host(i, *, cpus=4, memory_mib=8192, gpus=0, swarm="", **labels):
    return HostSnapshot(
        id=i,
        name=f"h{i}",
        cpus=cpus,
        memory_mib=memory_mib,
        gpu_uuids=tuple(f"GPU-{i}-{g}" for g in range(gpus)),
        labels=labels,
        swarm=swarm,
    )


def launch(i, tenant="a", *, nodes=1, cpus=1, memory_mib=1024, gpus=0, minutes=None, **labels):
    return QueuedLaunch(
        id=i,
        tenant=tenant,
        arrived=T0 + timedelta(minutes=i if minutes is None else minutes),
        nodes=tuple(
            NodeRequest(key=f"{i}-{n}", cpus=Decimal(cpus), memory_mib=memory_mib, gpus=gpus)
            for n in range(nodes)
        ),
        labels=labels,
    )


def test_factor_is_one_without_usage_and_half_at_exactly_the_share():
    factors = fairshare_factors(usage={"a": 30.0, "b": 10.0}, shares={"a": 3, "b": 1, "c": 1})

    assert factors["c"] == 1.0
    # a used 75% of the site against a 60% share; b 25% against 20%.
    assert factors["a"] == 2 ** (-0.75 / 0.6)
    assert factors["b"] == 2 ** (-0.25 / 0.2)
    assert fairshare_factors(usage={"a": 1.0, "b": 1.0}, shares={"a": 1, "b": 1}) == {"a": 0.5, "b": 0.5}


def test_a_bigger_share_waits_less_for_the_same_usage():
    factors = fairshare_factors(usage={"a": 5.0, "b": 5.0}, shares={"a": 4, "b": 1})

    assert factors["a"] > factors["b"]


def test_order_is_fair_share_across_tenants_then_first_come():
    launches = [launch(1, "heavy"), launch(2, "light"), launch(3, "heavy"), launch(4, "light")]

    order = queue_order(launches, {"heavy": 0.2, "light": 0.9})

    assert [q.id for q in order] == [2, 4, 1, 3]


def test_admits_in_order_until_full_and_backfills_smaller_launches():
    hosts = [host(1, cpus=4)]
    launches = [launch(1, cpus=2), launch(2, cpus=3), launch(3, cpus=1), launch(4, cpus=1)]

    admission = admit(launches=launches, hosts=hosts, factors={"a": 1.0})

    # 2 CPUs to the first; the 3-CPU launch does not fit and does not block the two 1-CPU ones.
    assert [q.id for q in admission.admitted] == [1, 3, 4]
    assert [q.id for q in admission.waiting] == [2]


def test_best_fit_on_the_fullest_host_and_labels_honoured():
    hosts = [host(1, cpus=8), host(2, cpus=2), host(3, cpus=2, zone="gpu")]

    admission = admit(
        launches=[launch(1, cpus=2), launch(2, cpus=2, zone="gpu")], hosts=hosts, factors={"a": 1}
    )

    assert admission.placements[1].host_id == 2
    assert admission.placements[2].host_id == 3


def test_multi_node_launch_spreads_over_a_swarm_when_no_one_host_fits():
    hosts = [host(1, cpus=2, swarm="s"), host(2, cpus=2, swarm="s")]

    admission = admit(launches=[launch(1, nodes=2, cpus=2)], hosts=hosts, factors={"a": 1})

    assert admission.placements[1].swarm == "s"
    assert set(admission.placements[1].host_ids.values()) == {1, 2}


def test_gpus_are_handed_out_once():
    hosts = [host(1, cpus=8, gpus=2)]

    admission = admit(launches=[launch(i, gpus=1) for i in range(1, 4)], hosts=hosts, factors={"a": 1})

    given_out = [
        uuid for p in admission.placements.values() for uuids in p.gpu_uuids.values() for uuid in uuids
    ]
    assert sorted(given_out) == ["GPU-1-0", "GPU-1-1"]
    assert [q.id for q in admission.waiting] == [3]


def test_estimated_wait_from_what_runs_or_unknown():
    assert estimated_wait_s(position=1, remaining_s=[], typical_s=None) is None
    assert estimated_wait_s(position=2, remaining_s=[300.0, 60.0], typical_s=600.0) == 300.0
    # Third in line behind two running sandboxes: one more round of a typical lifetime.
    assert estimated_wait_s(position=3, remaining_s=[300.0, 60.0], typical_s=600.0) == 900.0


def reference_admit(launches, hosts, factors, overcommit):
    """The plain way: each launch in order through `place` over every host, capacity updated."""
    hosts = {h.id: h for h in hosts}
    placements = {}
    for q in queue_order(launches, factors):
        try:
            placement = place(
                nodes=list(q.nodes), hosts=list(hosts.values()), overcommit=overcommit, labels=q.labels
            )
        except PlacementError:
            continue
        placements[q.id] = placement
        for node in q.nodes:
            h = hosts[placement.host_ids[node.key]]
            hosts[h.id] = replace(
                h,
                used_cpus=h.used_cpus + node.cpus,
                used_memory_mib=h.used_memory_mib + node.memory_mib,
                used_gpu_uuids=h.used_gpu_uuids | set(placement.gpu_uuids[node.key]),
            )
    return placements


hosts_strategy = st.lists(
    st.builds(
        lambda cpus, memory, gpus, swarm, zone: (cpus, memory, gpus, swarm, zone),
        st.integers(0, 8),
        st.sampled_from([0, 2048, 4096, 8192]),
        st.integers(0, 2),
        st.sampled_from(["", "s1", "s2"]),
        st.sampled_from(["", "b"]),
    ),
    min_size=1,
    max_size=8,
)
launches_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(0, 30),
        st.integers(1, 3),
        st.sampled_from(["0.5", "1", "2", "3"]),
        st.sampled_from([512, 1024, 4096]),
        st.integers(0, 1),
        st.sampled_from(["", "b"]),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(
    host_specs=hosts_strategy,
    launch_specs=launches_strategy,
    factors=st.fixed_dictionaries({t: st.floats(0, 1) for t in "abc"}),
    overcommit=st.sampled_from([Decimal("1"), Decimal("1.5"), Decimal("4")]),
)
def test_pass_matches_placing_each_launch_in_order(host_specs, launch_specs, factors, overcommit):
    hosts = [
        host(i, cpus=c, memory_mib=m, gpus=g, swarm=s, **({"zone": z} if z else {}))
        for i, (c, m, g, s, z) in enumerate(host_specs)
    ]
    launches = [
        launch(
            i, t, minutes=minute, nodes=n, cpus=Decimal(c), memory_mib=m, gpus=g, **({"zone": z} if z else {})
        )
        for i, (t, minute, n, c, m, g, z) in enumerate(launch_specs)
    ]

    admission = admit(launches=launches, hosts=hosts, factors=factors, overcommit=overcommit)

    # Nothing admitted out of order: exactly what placing each launch in turn admits, same hosts.
    expected = reference_admit(launches, hosts, factors, overcommit)
    assert admission.placements == expected
    # No host over capacity, no GPU given twice.
    by_id = {q.id: q for q in launches}
    for h in hosts:
        nodes = [
            node
            for q_id, p in admission.placements.items()
            for node in by_id[q_id].nodes
            if p.host_ids[node.key] == h.id
        ]
        assert sum((n.cpus for n in nodes), Decimal("0")) <= h.cpus * overcommit
        assert sum(n.memory_mib for n in nodes) <= h.memory_mib
        gpus = [
            u
            for p in admission.placements.values()
            for k, us in p.gpu_uuids.items()
            for u in us
            if p.host_ids[k] == h.id
        ]
        assert len(gpus) == len(set(gpus)) and set(gpus) <= set(h.gpu_uuids)
    # Fair-share order, then first come within a tenant.
    keys = [(-factors[q.tenant], q.arrived, q.id) for q in admission.order]
    assert keys == sorted(keys)
