"""The quota ledger against the real database: concurrent reservations and quotas cut below
usage."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from tenants.models import Allocation
from tenants.resources import AllocationRequest, QuotaExceeded, Resources
from tenants.selectors.usage import tenant_usage
from tenants.services.quota import quota_release, quota_reserve
from tenants.services.tenants import tenant_update_quota
from tenants.tests.factories import TenantFactory, UserFactory

SANDBOX = Resources(cpus=Decimal("1.5"), memory_mib=1024, sandboxes=1)


def _reserve(tenant, name, resources=SANDBOX):
    with transaction.atomic():
        return quota_reserve(
            tenant=tenant,
            owner=None,
            group=f"sandbox/{name}",
            requests=[AllocationRequest(subject=f"sandbox/{name}", resources=resources)],
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_exceed_the_quota():
    tenant = TenantFactory(quota_cpus=Decimal("5"), quota_memory_mib=100_000, quota_sandboxes=10)
    callers = 24
    start = threading.Barrier(callers)
    granted, refused, crashed = [], [], []

    def reserve(index):
        try:
            start.wait()
            _reserve(tenant, index)
            granted.append(index)
        except QuotaExceeded as error:
            refused.append(error)
        except Exception as error:  # noqa: BLE001 - any other failure must fail the test
            crashed.append(error)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert crashed == []
    assert len(granted) == 3  # 3 x 1.5 cores fit in 5, a fourth would not
    assert len(refused) == callers - 3
    assert {error.dimension for error in refused} == {"cpus"}
    live = Allocation.objects.filter(tenant=tenant, ended__isnull=True)
    usage = tenant_usage(tenant=tenant)
    assert usage.cpus == sum(a.cpus for a in live) == Decimal("4.5")
    assert usage.sandboxes == live.count() == 3


@pytest.mark.django_db
def test_refusal_names_the_dimension_limit_usage_and_request():
    tenant = TenantFactory(quota_gpus=2)
    _reserve(tenant, "a", Resources(gpus=2))
    with pytest.raises(QuotaExceeded) as refused:
        _reserve(tenant, "b", Resources(gpus=1))
    assert (refused.value.dimension, refused.value.limit, refused.value.in_use, refused.value.requested) == (
        "gpus",
        2,
        2,
        1,
    )
    assert "gpus" in str(refused.value)
    assert not Allocation.objects.filter(subject="sandbox/b").exists()


@pytest.mark.django_db
def test_quota_set_below_usage_keeps_what_runs_and_refuses_new_requests():
    admin = UserFactory(is_site_admin=True)
    tenant = TenantFactory(quota_sandboxes=3)
    _reserve(tenant, "a")
    _reserve(tenant, "b")

    tenant_update_quota(actor=admin, tenant=tenant, quota={"sandboxes": 1})

    assert tenant_usage(tenant=tenant).sandboxes == 2  # nothing was stopped
    with pytest.raises(QuotaExceeded) as refused:
        _reserve(tenant, "c")
    assert (refused.value.limit, refused.value.in_use, refused.value.requested) == (1, 2, 1)

    quota_release(group="sandbox/a")
    with pytest.raises(QuotaExceeded):
        _reserve(tenant, "c")  # 1 in use + 1 asked is still over a limit of 1
    quota_release(group="sandbox/b")
    _reserve(tenant, "c")
    assert tenant_usage(tenant=tenant).sandboxes == 1


@pytest.mark.django_db
def test_retrying_a_reservation_does_not_count_twice():
    tenant = TenantFactory(quota_sandboxes=1)
    _reserve(tenant, "a")
    _reserve(tenant, "a")
    assert tenant_usage(tenant=tenant).sandboxes == 1


@pytest.mark.django_db(transaction=True)
def test_reserving_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        quota_reserve(tenant=TenantFactory(), owner=None, group="g", requests=[])
