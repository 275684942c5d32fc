"""A quota ledger with hand-computed intervals, shared by the usage report tests."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from tenants.models import Tenant
from tenants.resources import AllocationRequest, Resources
from tenants.services.quota import quota_release, quota_reserve


def at(month, day, hour=0, year=2026):
    return datetime(year, month, day, hour, tzinfo=UTC)


def hold(tenant, owner, subject, resources, *, start, end=None, item="jupyter"):
    """One ledger interval, written the only way the ledger is written."""
    group = f"sandbox/{subject}"
    with transaction.atomic():
        quota_reserve(
            tenant=tenant,
            owner=owner,
            group=group,
            requests=[
                AllocationRequest(subject=subject, resources=resources, attributes={"catalog_item": item})
            ],
            at=start,
        )
    if end is not None:
        quota_release(group=group, at=end)


NODE = Resources(cpus=Decimal("2"), memory_mib=4096, gpus=1)
SLOT = Resources(sandboxes=1, storage_gib=10)


@pytest.fixture(name="ledger")
def ledger_fixture(world):
    Tenant.objects.filter(pk__in=[world.acme.pk, world.globex.pk]).update(quota_cpus=64, quota_gpus=8)
    # 2 cores, 4 GiB, 1 GPU from Jan 30 18:00 to Feb 2 06:00: 6 + 24 + 24 + 6 = 60 hours.
    hold(world.acme, world.member, "node-1", NODE, start=at(1, 30, 18), end=at(2, 2, 6))
    # The sandbox slot of the same sandbox, still open: 10 GiB of storage.
    hold(world.acme, world.member, "slot-1", SLOT, start=at(1, 31, 12))
    # Alice's half core for 3 hours on Feb 1, another catalog item.
    hold(
        world.acme,
        world.tenant_admin,
        "node-2",
        Resources(cpus=Decimal("0.5")),
        start=at(2, 1, 9),
        end=at(2, 1, 12),
        item="pytorch-ddp",
    )
    # Another tenant's usage must never show up in acme's report.
    hold(world.globex, world.outsider, "node-3", NODE, start=at(1, 31), end=at(2, 1))
    return world


NOW = at(2, 1, 12)  # the slot has been open 24 hours
