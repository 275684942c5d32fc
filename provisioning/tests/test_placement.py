"""The placement function over fake inventories, up to thousands of hosts."""

from decimal import Decimal

import pytest

from provisioning.placement import HostSnapshot, NodeRequest, PlacementError, place, place_sandbox


def host(
    i, *, cpus=16, memory_mib=65536, gpus=0, used_cpus=0, used_memory_mib=0, used_gpus=(), swarm="", **labels
):
    return HostSnapshot(
        swarm=swarm,
        id=i,
        name=f"h{i}",
        cpus=cpus,
        memory_mib=memory_mib,
        gpu_uuids=tuple(f"GPU-{i}-{g}" for g in range(gpus)),
        labels=labels,
        used_cpus=Decimal(used_cpus),
        used_memory_mib=used_memory_mib,
        used_gpu_uuids=frozenset(used_gpus),
    )


def nodes(count, cpus=1, memory_mib=1024, gpus=0):
    return [
        NodeRequest(key=f"n{i}", cpus=Decimal(cpus), memory_mib=memory_mib, gpus=gpus) for i in range(count)
    ]


def test_best_fit_picks_the_fullest_host_that_fits():
    hosts = [host(i, used_cpus=i % 15) for i in range(5000)]

    placement = place(nodes=nodes(1), hosts=hosts)

    assert placement.host_id == 14  # 15 of 16 cores used: the fullest that still fits one core


def test_all_nodes_of_a_sandbox_share_one_host():
    hosts = [host(1, cpus=2), host(2, cpus=8)]

    assert place(nodes=nodes(3), hosts=hosts).host_id == 2


def test_cpu_overcommit_ratio():
    hosts = [host(1, cpus=2)]

    with pytest.raises(PlacementError):
        place(nodes=nodes(4), hosts=hosts)
    assert place(nodes=nodes(4), hosts=hosts, overcommit=Decimal("2")).host_id == 1


def test_memory_is_never_overcommitted():
    hosts = [host(1, memory_mib=4096, used_memory_mib=2048)]

    with pytest.raises(PlacementError, match="3072 MiB of memory asked, at most 2048 MiB free on one host"):
        place(nodes=nodes(3), hosts=hosts, overcommit=Decimal("10"))


def test_labels_restrict_hosts():
    hosts = [host(i) for i in range(3000)] + [
        host(3000, zone="gpu-room"),
        host(3001, zone="gpu-room", used_cpus=8),
    ]

    assert place(nodes=nodes(2), hosts=hosts, labels={"zone": "gpu-room"}).host_id == 3001


def test_unknown_label_is_refused_with_the_label():
    with pytest.raises(PlacementError, match="No ready host has the labels zone=mars"):
        place(nodes=nodes(1), hosts=[host(1)], labels={"zone": "mars"})


def test_gpus_get_distinct_free_uuids():
    hosts = [host(1, gpus=4, used_gpus={"GPU-1-0"})] + [host(i) for i in range(2, 2000)]

    placement = place(
        nodes=nodes(2, gpus=1) + [NodeRequest(key="big", cpus=Decimal(1), memory_mib=1, gpus=1)], hosts=hosts
    )

    assigned = [uuid for uuids in placement.gpu_uuids.values() for uuid in uuids]
    assert placement.host_id == 1
    assert sorted(assigned) == ["GPU-1-1", "GPU-1-2", "GPU-1-3"]


def test_not_enough_gpus_anywhere_is_refused():
    hosts = [host(i, gpus=1) for i in range(1000)]

    with pytest.raises(PlacementError, match="2 GPUs asked, at most 1 free on one host"):
        place(nodes=nodes(1, gpus=2), hosts=hosts)


def test_a_full_fleet_refuses_and_says_why():
    hosts = [host(i, cpus=4, used_cpus=4) for i in range(2000)]

    with pytest.raises(PlacementError, match="1 CPUs asked, at most 0 free on one host"):
        place(nodes=nodes(1), hosts=hosts)


def test_placement_is_pure():
    hosts = [host(1, gpus=2)]
    before = list(hosts)

    first = place(nodes=nodes(1, gpus=1), hosts=hosts)
    second = place(nodes=nodes(1, gpus=1), hosts=hosts)

    assert first == second and hosts == before


def test_a_sandbox_too_big_for_one_host_spreads_over_the_hosts_of_a_swarm():
    hosts = [host(1, cpus=4), host(2, cpus=4, swarm="s"), host(3, cpus=4, swarm="s"), host(4, cpus=4)]
    placement = place(nodes=nodes(6), hosts=hosts)
    assert placement.swarm == "s" and placement.spans_hosts
    assert sorted(placement.host_ids.values()) == [2, 2, 2, 2, 3, 3]  # best fit: fill one, then the next


def test_one_host_is_preferred_even_inside_a_swarm():
    hosts = [host(1, cpus=8, swarm="s"), host(2, cpus=8, swarm="s")]
    placement = place(nodes=nodes(3), hosts=hosts)
    assert not placement.spans_hosts and placement.swarm == ""


def test_hosts_outside_a_swarm_never_share_a_sandbox():
    hosts = [host(i, cpus=4) for i in range(1, 4)]
    with pytest.raises(PlacementError, match="CPUs asked"):
        place(nodes=nodes(6), hosts=hosts)


def test_spreading_assigns_gpus_per_host_and_keeps_to_the_labels():
    hosts = [
        host(1, gpus=2, swarm="s", room="a"),
        host(2, gpus=2, swarm="s", room="a"),
        host(3, gpus=8, swarm="s", room="b"),
    ]
    placement = place(nodes=nodes(3, gpus=1), hosts=hosts, labels={"room": "a"})
    assert set(placement.host_ids.values()) == {1, 2}
    used = [uuid for uuids in placement.gpu_uuids.values() for uuid in uuids]
    assert len(used) == len(set(used)) == 3
    assert all(
        uuid.startswith(f"GPU-{placement.host_ids[key]}-")
        for key, uuids in placement.gpu_uuids.items()
        for uuid in uuids
    )


def test_a_sandbox_spanning_a_swarm_grows_only_inside_it():
    hosts = [host(1, cpus=16), host(2, cpus=2, swarm="s"), host(3, cpus=2, swarm="s")]
    placement = place(nodes=nodes(3), hosts=hosts, swarm="s")
    assert set(placement.host_ids.values()) == {2, 3}
    with pytest.raises(PlacementError, match="swarm"):
        place(nodes=nodes(5), hosts=hosts, swarm="s")


def test_a_sandbox_restarts_on_its_preferred_host_while_it_fits():
    hosts = [host(1, used_cpus=15), host(2, used_cpus=2)]

    assert place_sandbox(nodes=nodes(1), hosts=hosts, prefer_host_id=2).host_id == 2
    assert place_sandbox(nodes=nodes(4), hosts=hosts, prefer_host_id=1).host_id == 2


def test_a_sandbox_grows_only_on_its_own_host():
    hosts = [host(1, used_cpus=15), host(2)]

    with pytest.raises(PlacementError, match="No host can take this sandbox"):
        place_sandbox(nodes=nodes(2), hosts=hosts, only_host_id=1)
    with pytest.raises(PlacementError, match="The sandbox's host is not ready"):
        place_sandbox(nodes=nodes(1), hosts=hosts, only_host_id=3)
    with pytest.raises(PlacementError, match="No Docker host is ready"):
        place_sandbox(nodes=nodes(1), hosts=[])
