"""50 launches at once against room for 5 (fake engine, real PostgreSQL, one connection per
thread): 5 admitted, 45 queued, then drained in fair-share order as sandboxes end, with no
capacity handed out twice and no tenant above its quota."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from freezegun import freeze_time

from catalog.models import CatalogItem, Flavor
from provisioning.models import Host, Node, NodeStatus, Operation, Sandbox, SandboxStatus
from provisioning.queue_selectors import queue_standings
from provisioning.services.admission import queue_admit_pass
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from provisioning.tests.conftest import cluster_manifest
from tenants.models import Membership, Tenant, User
from tenants.resources import DIMENSIONS
from tenants.selectors.usage import tenant_quota, tenant_usage

pytestmark = pytest.mark.django_db(transaction=True)

LAUNCHES = 50
ROOM = 5  # one-core sandboxes on a 5-core host, no overcommit
THREADS = 16  # concurrent database sessions: the server is shared with other test runs


@pytest.fixture
def site(settings, monkeypatch):
    """Two tenants with equal shares, quota for 25 launches each; workers are not started:
    the test advances operations itself, so what it sees is only what the services decided."""
    from provisioning import tasks

    monkeypatch.setattr(tasks.operation_run, "delay", lambda *args: None)
    monkeypatch.setattr(tasks.queue_admit, "delay", lambda *args: None)
    settings.CPU_OVERCOMMIT = "1"
    small = Flavor.objects.update_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 1024, "gpus": 0, "disk_gib": 1}
    )[0]
    CatalogItem.objects.create(
        slug="cluster",
        name="Cluster",
        version="1",
        category="training",
        default_flavor=small,
        manifest=cluster_manifest(),
    )
    Host.objects.create(name="fake-1", url="fake://fake-1", cpus=ROOM, memory_mib=65536)
    user = User.objects.create_user(username="ada", password="unused")
    tenants = []
    for slug in ("red", "blue"):
        tenant = Tenant.objects.create(
            slug=slug,
            name=slug,
            quota_cpus=Decimal(25),
            quota_memory_mib=25 * 1024,
            quota_storage_gib=25,
            quota_sandboxes=25,
        )
        Membership.objects.create(user=user, tenant=tenant)
        tenants.append(tenant)
    return user, tenants


def _create(args):
    user, tenant, name = args
    try:
        return sandbox_create(
            owner=user, tenant=tenant, name=name, catalog_item="cluster", flavor="small", nodes={"worker": 0}
        ).pk
    finally:
        connection.close()


def _run_pending():
    for operation in Operation.objects.filter(status__in=["pending", "running"]):
        for _ in range(20):
            if operation_advance(operation_id=operation.pk).again_in is None:
                break


def _check_invariants(tenants):
    for tenant in tenants:
        usage, quota = tenant_usage(tenant=tenant), tenant_quota(tenant=tenant)
        assert all(getattr(usage, d) <= getattr(quota, d) for d in DIMENSIONS)
    held = Node.objects.exclude(status__in=[NodeStatus.STOPPED, NodeStatus.DELETED]).exclude(host=None)
    assert (held.aggregate(cpus=Sum("cpus"))["cpus"] or 0) <= ROOM
    # Admitted once: no sandbox has two create operations.
    creates = Operation.objects.filter(kind=Operation.Kind.CREATE).values_list("sandbox", flat=True)
    assert len(creates) == len(set(creates))


def test_fifty_launches_against_room_for_five(site):
    user, (red, blue) = site
    requests = [(user, red if i % 2 else blue, f"s{i}") for i in range(LAUNCHES)]

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(_create, requests))

    assert len(set(ids)) == LAUNCHES
    statuses = list(Sandbox.objects.values_list("status", flat=True))
    assert statuses.count(SandboxStatus.PENDING) == ROOM
    assert statuses.count(SandboxStatus.QUEUED) == LAUNCHES - ROOM
    _run_pending()
    _check_invariants([red, blue])

    admitted_order = []
    while Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists():
        oldest = Sandbox.objects.filter(status=SandboxStatus.RUNNING).order_by("created", "pk").first()
        sandbox_delete(sandbox=oldest, actor=user)
        _run_pending()
        # One instant for both: the factors follow decayed usage, which grows as time passes, so
        # two tenants near a tie could swap between two separate looks.
        with freeze_time(timezone.now()):
            expected = queue_standings()[0][0].pk
            admitted = queue_admit_pass()["admitted"]
        assert admitted == [expected]
        admitted_order.append(admitted[0])
        _run_pending()
        _check_invariants([red, blue])

    assert len(admitted_order) == LAUNCHES - ROOM
    assert Sandbox.objects.filter(status=SandboxStatus.RUNNING).count() == ROOM


def test_concurrent_passes_hand_out_room_once(site):
    user, (red, blue) = site
    for i in range(12):
        _create((user, red if i % 2 else blue, f"s{i}"))
    _run_pending()
    for sandbox in Sandbox.objects.filter(status=SandboxStatus.RUNNING).order_by("pk")[:3]:
        sandbox_delete(sandbox=sandbox, actor=user)
    _run_pending()

    def one_pass(_):
        try:
            return queue_admit_pass()["admitted"]
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        passes = list(pool.map(one_pass, range(4)))

    admitted = [pk for result in passes for pk in result]
    assert len(admitted) == len(set(admitted)) == 3
    _check_invariants([red, blue])
