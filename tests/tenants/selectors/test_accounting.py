"""Usage reports from the quota ledger, checked against intervals computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from tenants.models import Tenant
from tenants.resources import Resources
from tenants.selectors.accounting import Usage, usage_report
from tests.tenants.ledger import NOW, at, hold, ledger_fixture  # noqa: F401 - fixture


def amounts(usage: Usage) -> tuple:
    return tuple(usage.as_dict().values())


def test_intervals_are_cut_at_day_boundaries(ledger):
    report = usage_report(
        user=ledger.tenant_admin, tenant=ledger.acme, since=at(1, 30), until=at(2, 3), group_by="day", now=NOW
    )

    by_day = dict(report.by_period())
    assert list(by_day) == [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)]
    # core, memory GiB, GPU, sandbox, storage GiB hours
    assert amounts(by_day[date(2026, 1, 30)]) == (12, 24, 6, 0, 0)
    assert amounts(by_day[date(2026, 1, 31)]) == (48, 96, 24, 12, 120)
    # node-1 all day, node-2 3 h x 0.5, the open slot until NOW (12:00)
    assert amounts(by_day[date(2026, 2, 1)]) == (Decimal("49.5"), 96, 24, 12, 120)
    assert amounts(by_day[date(2026, 2, 2)]) == (12, 24, 6, 0, 0)
    assert amounts(report.totals) == (Decimal("121.5"), 240, 60, 24, 240)


def test_months_and_clipping_to_the_period(ledger):
    report = usage_report(
        user=ledger.site_admin, tenant=ledger.acme, since=at(1, 31), until=at(2, 2), group_by="month", now=NOW
    )

    by_month = dict(report.by_period())
    assert list(by_month) == [date(2026, 1, 1), date(2026, 2, 1)]
    # Only Jan 31 and Feb 1 count: node-1 24 h each, the slot 12 h each, node-2 on Feb 1.
    assert amounts(by_month[date(2026, 1, 1)]) == (48, 96, 24, 12, 120)
    assert amounts(by_month[date(2026, 2, 1)]) == (Decimal("49.5"), 96, 24, 12, 120)


def test_per_user_and_per_catalog_item(ledger):
    report = usage_report(
        user=ledger.site_admin, tenant=ledger.acme, since=at(1, 1), until=at(3, 1), group_by="month", now=NOW
    )

    assert [(name, u.core_hours) for name, u in report.by("user")] == [
        ("alice", Decimal("1.5")),
        ("bob", 120),
    ]
    assert [(name, u.core_hours) for name, u in report.by("catalog_item")] == [
        ("jupyter", 120),
        ("pytorch-ddp", Decimal("1.5")),
    ]
    assert report.by("tenant") == [("acme", report.totals)]


def test_an_open_interval_ends_now_and_a_future_until_adds_nothing(ledger):
    later = usage_report(
        user=ledger.site_admin,
        tenant=ledger.acme,
        since=at(2, 1),
        until=at(3, 1),
        group_by="month",
        now=at(2, 11, 12),
    )

    # The slot: Feb 1 00:00 to Feb 11 12:00 = 252 hours.
    assert later.totals.sandbox_hours == 252
    assert later.totals.storage_gib_hours == 2520


def test_an_interval_over_many_months(world):
    Tenant.objects.filter(pk=world.acme.pk).update(quota_cpus=64)
    hold(
        world.acme,
        world.member,
        "long",
        Resources(cpus=Decimal("1")),
        start=at(11, 15, year=2025),
        end=at(3, 15),
    )

    months = usage_report(
        user=world.site_admin,
        since=at(1, 1, year=2025),
        until=at(1, 1, year=2027),
        group_by="month",
        now=at(6, 1),
    )
    days = usage_report(
        user=world.site_admin, since=at(11, 1, year=2025), until=at(4, 1), group_by="day", now=at(6, 1)
    )

    core = {period: u.core_hours for period, u in months.by_period() if u.core_hours}
    # Nov 15-30 is 16 days, then December, January, February (28 days) and Mar 1-14.
    assert core == {
        date(2025, 11, 1): 16 * 24,
        date(2025, 12, 1): 31 * 24,
        date(2026, 1, 1): 31 * 24,
        date(2026, 2, 1): 28 * 24,
        date(2026, 3, 1): 14 * 24,
    }
    daily = [u.core_hours for _, u in days.by_period() if u.core_hours]
    assert daily == [24] * 120
    assert days.totals == months.totals


def test_members_see_their_own_usage_admins_their_tenants(ledger):
    since, until = at(1, 1), at(3, 1)

    def users(user, **kwargs):
        report = usage_report(user=user, since=since, until=until, now=NOW, **kwargs)
        return {(row.tenant, row.user) for row in report.rows}

    assert users(ledger.site_admin) == {("acme", "bob"), ("acme", "alice"), ("globex", "mallory")}
    assert users(ledger.tenant_admin) == {("acme", "bob"), ("acme", "alice")}
    assert users(ledger.member) == {("acme", "bob")}
    assert users(ledger.member, username="alice") == set()
    assert users(ledger.outsider) == {("globex", "mallory")}
    assert users(ledger.outsider, tenant=ledger.acme) == set()
    assert users(ledger.tenant_admin, username="bob") == {("acme", "bob")}


def test_a_bad_period_is_refused(ledger):
    with pytest.raises(ValueError, match="later"):
        usage_report(user=ledger.site_admin, since=at(2, 1), until=at(2, 1))
    with pytest.raises(ValueError, match="group_by"):
        usage_report(user=ledger.site_admin, since=at(2, 1), until=at(2, 2), group_by="week")
