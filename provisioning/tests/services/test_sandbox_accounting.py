"""Accounting over a sandbox's whole life (create, stop, start, resize, delete) with the clock
under the test's control: the report adds up to hand-computed hours, and at every step the
hours accrue exactly at the rate of what quota counts as in use."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from freezegun import freeze_time

from provisioning.services.sandboxes import sandbox_delete, sandbox_resize, sandbox_start, sandbox_stop
from provisioning.tests.lifecycle import create, run
from tenants.selectors.accounting import usage_report
from tenants.selectors.usage import tenant_usage
from tenants.tests.factories import UserFactory

T0 = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # crosses midnight and the end of March


def hours(n):
    return timedelta(hours=n)


def assert_accrues_at_quota_usage(tenant, admin, moment):
    """Over the next hour, with nothing changing, the report must add exactly what quota counts
    as in use now: cores -> core-hours, MiB -> GiB-hours / 1024, and so on."""
    in_use = tenant_usage(tenant=tenant)
    hour = usage_report(
        user=admin, tenant=tenant, since=moment, until=moment + hours(1), now=moment + hours(1)
    ).totals
    assert (
        hour.core_hours,
        hour.memory_gib_hours,
        hour.gpu_hours,
        hour.sandbox_hours,
        hour.storage_gib_hours,
    ) == (
        in_use.cpus,
        Decimal(in_use.memory_mib) / 1024,
        in_use.gpus,
        in_use.sandboxes,
        in_use.storage_gib,
    )


def test_hours_over_a_lifecycle_add_up(member, tenant, cluster_item, engine, django_user_model):
    admin = UserFactory(username="root", is_site_admin=True)
    with freeze_time(T0) as clock:
        sandbox, operation = create(member, tenant)  # head + 2 workers, 1 core and 2 GiB each
        run(operation)
        assert_accrues_at_quota_usage(tenant, admin, T0)

        clock.move_to(T0 + hours(2))
        run(sandbox_stop(sandbox=sandbox, actor=member))
        assert_accrues_at_quota_usage(tenant, admin, T0 + hours(2))

        clock.move_to(T0 + hours(5))
        run(sandbox_start(sandbox=sandbox, actor=member))
        assert_accrues_at_quota_usage(tenant, admin, T0 + hours(5))

        clock.move_to(T0 + hours(6))
        run(sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 1}))
        assert_accrues_at_quota_usage(tenant, admin, T0 + hours(6))

        clock.move_to(T0 + hours(8))
        run(sandbox_delete(sandbox=sandbox, actor=member))
        assert_accrues_at_quota_usage(tenant, admin, T0 + hours(8))

    report = usage_report(
        user=admin, tenant=tenant, since=T0 - hours(24), until=T0 + hours(48), now=T0 + hours(48)
    )
    # Node-hours: 3 nodes x 2 h running, stopped 3 h, 3 x 1 h, then 2 x 2 h after the resize.
    node_hours = 3 * 2 + 3 * 1 + 2 * 2
    totals = report.totals
    assert totals.core_hours == node_hours
    assert totals.memory_gib_hours == node_hours * 2
    assert totals.sandbox_hours == 8  # the slot is held from create to delete, stopped or not
    assert totals.storage_gib_hours == 8 * 10
    # Cut at midnight: 2 hours on March 31 (3 nodes), the rest on April 1.
    by_day = {
        period.isoformat(): usage.core_hours for period, usage in report.by_period() if usage.core_hours
    }
    assert by_day == {"2026-03-31": 6, "2026-04-01": node_hours - 6}
    monthly = usage_report(
        user=admin,
        tenant=tenant,
        since=T0 - hours(24),
        until=T0 + hours(48),
        group_by="month",
        now=T0 + hours(48),
    )
    assert [(p.month, u.core_hours) for p, u in monthly.by_period()] == [(3, 6), (4, node_hours - 6)]
    assert report.by("user") == [("ada", totals)]
    assert report.by("catalog_item") == [("cluster", totals)]
