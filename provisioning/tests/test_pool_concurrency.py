"""Twelve launches at once against a pool of three (fake engine, real PostgreSQL, one connection
per thread): three claim a pooled node each, none is handed out twice, the other nine start
cold; and a pooled node the pool pass finds lost at the moment of a claim goes to one side only."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import CatalogItem, Flavor
from provisioning.models import Host, Node, PoolNode, PoolSetting, Sandbox
from provisioning.services.pools import pool_maintain, pool_set
from provisioning.services.sandboxes import sandbox_create
from provisioning.states import PoolNodeStatus
from provisioning.tests.doubles import fake_engine
from provisioning.tests.services.test_pools import notebook_manifest
from tenants.models import Membership, Tenant, User

pytestmark = pytest.mark.django_db(transaction=True)

LAUNCHES = 12
POOL = 3
P = PoolNodeStatus


@pytest.fixture
def site(monkeypatch):
    from provisioning import tasks

    for task in (tasks.operation_run, tasks.queue_admit):
        monkeypatch.setattr(task, "delay", lambda *args: None)
    monkeypatch.setattr(tasks.pool_maintain, "apply_async", lambda *args, **kwargs: None)
    small = Flavor.objects.update_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 1024, "gpus": 0, "disk_gib": 1}
    )[0]
    CatalogItem.objects.create(
        slug="notebook",
        name="Notebook",
        version="1",
        category="notebook",
        default_flavor=small,
        manifest=notebook_manifest(),
    )
    host = Host.objects.create(name="fake-1", url="fake://fake-1", cpus=64, memory_mib=262144)
    admin = User.objects.create_user(username="root", password="unused", is_site_admin=True)
    pool_set(actor=admin, catalog_item="notebook", flavor="small", size=POOL)
    while pool_maintain(host_id=host.pk):
        pass
    assert PoolNode.objects.filter(status=P.READY).count() == POOL
    user = User.objects.create_user(username="ada", password="unused")
    tenant = Tenant.objects.create(
        slug="lab",
        name="Lab",
        quota_cpus=Decimal(LAUNCHES),
        quota_memory_mib=LAUNCHES * 1024,
        quota_storage_gib=LAUNCHES,
        quota_sandboxes=LAUNCHES,
    )
    Membership.objects.create(user=user, tenant=tenant)
    return user, tenant, host


def _launch(args):
    user, tenant, name = args
    try:
        return sandbox_create(
            owner=user, tenant=tenant, name=name, catalog_item="notebook", flavor="small"
        ).pk
    finally:
        connection.close()


def test_concurrent_launches_never_share_a_pooled_node(site):
    user, tenant, _host = site
    with ThreadPoolExecutor(LAUNCHES) as threads:
        ids = list(threads.map(_launch, [(user, tenant, f"nb{i}") for i in range(LAUNCHES)]))

    assert len(set(ids)) == LAUNCHES
    claimed = PoolNode.objects.filter(status=P.CLAIMED)
    assert claimed.count() == POOL
    assert len({p.node_id for p in claimed}) == POOL
    warm = Sandbox.objects.exclude(pooled_workspace="")
    assert warm.count() == POOL
    assert {s.pooled_workspace for s in warm} == {p.workspace_volume for p in claimed}
    assert Node.objects.filter(host__isnull=False).count() == LAUNCHES  # the rest placed cold
    setting = PoolSetting.objects.get()
    assert (setting.hits, setting.misses) == (POOL, LAUNCHES - POOL)


def test_a_pooled_node_lost_while_launches_claim_goes_to_one_side(site):
    """The pool pass marks a node lost with the same conditional update a claim takes it with:
    it is either claimed (and its launch finds it gone and starts cold) or lost, never both."""
    user, tenant, host = site
    for pool_node in PoolNode.objects.all():
        fake_engine(host.url).remove(name=pool_node.container_name)

    def race(i):
        try:
            if i == 0:
                return pool_maintain(host_id=host.pk)
            return _launch((user, tenant, f"nb{i}"))
        finally:
            connection.close()

    with ThreadPoolExecutor(POOL + 1) as threads:
        list(threads.map(race, range(POOL + 1)))

    first_three = PoolNode.objects.order_by("pk")[:POOL]
    for pool_node in first_three:
        assert pool_node.status in (P.CLAIMED, P.REMOVED)
        if pool_node.status == P.REMOVED:
            assert pool_node.node_id is None  # a lost node was never handed to a launch
        else:
            assert "gone" not in pool_node.explanation
