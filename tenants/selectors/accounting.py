"""Usage accounting: who held what, for how long, computed from the quota ledger.

The ledger (`Allocation`) is the only record: every interval a node or a sandbox slot held part
of a tenant's quota is one row, written by `quota_reserve` and closed by `quota_release`. A report
clips each interval to the period asked for (an interval still open ends now), cuts it at day
or month boundaries (UTC) and sums resource x hours per period, tenant, user and catalog item.
Accounting and quota therefore read the same rows and cannot disagree.

Who sees what: site admins every tenant; tenant admins every row of the tenants they administer;
members only their own rows (like Slurm's PrivateData=usage): a colleague's usage is not theirs
to read.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from tenants.models import Allocation, Tenant

GROUP_BY = ("day", "month")
#: Rounding of reported amounts: a millionth of an hour, finer than anything a bill shows.
PRECISION = Decimal("0.000001")


@dataclass(frozen=True)
class Usage:
    """Resource x time held, in hours: cores, GiB of memory, GPUs, sandboxes, GiB of storage."""

    core_hours: Decimal = Decimal("0")
    memory_gib_hours: Decimal = Decimal("0")
    gpu_hours: Decimal = Decimal("0")
    sandbox_hours: Decimal = Decimal("0")
    storage_gib_hours: Decimal = Decimal("0")

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in MEASURES})

    def as_dict(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in MEASURES}


MEASURES = tuple(f.name for f in fields(Usage))


@dataclass(frozen=True)
class UsageRow:
    """Usage of one tenant, user and catalog item in one period (the period's first day)."""

    period: date
    tenant: str
    user: str  # "" when the owner's account is gone
    catalog_item: str  # "" for allocations without one
    usage: Usage


@dataclass(frozen=True)
class UsageReport:
    since: datetime
    until: datetime
    group_by: str
    rows: list[UsageRow]

    @property
    def totals(self) -> Usage:
        return _sum_by(self.rows, lambda row: None).get(None, Usage())

    def periods(self) -> list[date]:
        """The first day of every period of the report, including those without usage."""
        return period_starts(since=self.since, until=self.until, group_by=self.group_by)

    def by_period(self) -> list[tuple[date, Usage]]:
        sums = _sum_by(self.rows, lambda row: row.period)
        return [(period, sums.get(period, Usage())) for period in self.periods()]

    def by(self, key: str) -> list[tuple[str, Usage]]:
        """Totals per "tenant", "user" or "catalog_item", in name order."""
        sums = _sum_by(self.rows, lambda row: getattr(row, key))
        return sorted(sums.items())

    def series(self, *, key: str, measure: str) -> dict[str, list[Decimal]]:
        """One list of `measure` per value of `key`, aligned with periods(): for stacked charts."""
        periods = self.periods()
        position = {period: i for i, period in enumerate(periods)}
        series: dict[str, list[Decimal]] = {}
        for row in self.rows:
            values = series.setdefault(getattr(row, key), [Decimal("0")] * len(periods))
            values[position[row.period]] += getattr(row.usage, measure)
        return dict(sorted(series.items()))


def _sum_by(rows: Iterable[UsageRow], key) -> dict:
    # Plain lists while adding up: a year of days holds hundreds of thousands of rows.
    sums: dict = {}
    for row in rows:
        amounts = sums.setdefault(key(row), [Decimal("0")] * len(MEASURES))
        for i, name in enumerate(MEASURES):
            amounts[i] += getattr(row.usage, name)
    return {k: Usage(*amounts) for k, amounts in sums.items()}


def allocation_report_scope(*, user) -> QuerySet[Allocation]:
    """The ledger rows whose usage `user` may read (see the module's docstring)."""
    visible = Allocation.objects.visible_to(user)
    if user.is_site_admin:
        return visible
    administered = Tenant.objects.administered_by(user).values("pk")
    return visible.filter(Q(tenant__in=administered) | Q(owner=user))


def usage_report(
    *,
    user,
    since: datetime,
    until: datetime,
    group_by: str = "day",
    tenant: Tenant | None = None,
    username: str | None = None,
    now: datetime | None = None,
) -> UsageReport:
    """Usage over [since, until) that `user` may read, optionally of one tenant and one user."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}")
    if until <= since:
        raise ValueError("until must be later than since")
    now = now or timezone.now()
    scope = allocation_report_scope(user=user).filter(
        Q(ended__isnull=True) | Q(ended__gt=since), started__lt=until
    )
    if tenant is not None:
        scope = scope.filter(tenant=tenant)
    if username:
        scope = scope.filter(owner__username=username)
    scoped_sql, scoped_params = scope.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            _REPORT_SQL.format(scoped=scoped_sql, unit=group_by, step=f"1 {group_by}"),
            [since, now, until, *scoped_params],
        )
        rows = [
            UsageRow(
                period=period.date(),
                tenant=tenant_slug,
                user=owner or "",
                catalog_item=item or "",
                usage=Usage(*(Decimal(amount).quantize(PRECISION) for amount in amounts)),
            )
            for period, tenant_slug, owner, item, *amounts in cursor.fetchall()
        ]
    return UsageReport(since=since, until=until, group_by=group_by, rows=rows)


# Timestamps are turned into UTC wall-clock time first, so that days and months are cut at UTC
# midnight whatever the session's time zone. generate_series yields every period an interval
# touches, however many days or months it spans; each piece is the interval clipped to its
# period. `unit` and `step` come from GROUP_BY only, never from the request.
_REPORT_SQL = """
WITH clipped AS (
    SELECT a.tenant_id, a.owner_id, a.attributes ->> 'catalog_item' AS catalog_item,
           a.cpus, a.memory_mib, a.gpus, a.sandboxes, a.storage_gib,
           GREATEST(a.started, %s) AT TIME ZONE 'UTC' AS held_from,
           LEAST(COALESCE(a.ended, %s), %s) AT TIME ZONE 'UTC' AS held_to
    FROM tenants_allocation a
    WHERE a.id IN ({scoped})
),
pieces AS (
    SELECT c.*, period,
           EXTRACT(EPOCH FROM LEAST(c.held_to, period + interval '{step}')
                              - GREATEST(c.held_from, period)) / 3600 AS hours
    FROM clipped c
    CROSS JOIN LATERAL generate_series(
        date_trunc('{unit}', c.held_from), c.held_to - interval '1 microsecond', interval '{step}'
    ) AS period
    WHERE c.held_to > c.held_from
)
SELECT p.period, t.slug, u.username, p.catalog_item,
       SUM(p.cpus * p.hours),
       SUM(p.memory_mib * p.hours) / 1024,
       SUM(p.gpus * p.hours),
       SUM(p.sandboxes * p.hours),
       SUM(p.storage_gib * p.hours)
FROM pieces p
JOIN tenants_tenant t ON t.id = p.tenant_id
LEFT JOIN tenants_user u ON u.id = p.owner_id
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""


def period_start(moment: datetime, *, group_by: str) -> date:
    day = moment.astimezone(UTC).date()
    return day if group_by == "day" else day.replace(day=1)


def period_next(start: date, *, group_by: str) -> date:
    if group_by == "day":
        return start + timedelta(days=1)
    return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])


def period_starts(*, since: datetime, until: datetime, group_by: str) -> list[date]:
    """First days of the periods that [since, until) touches."""
    last = period_start(until - timedelta(microseconds=1), group_by=group_by)
    periods = [period_start(since, group_by=group_by)]
    while periods[-1] < last:
        periods.append(period_next(periods[-1], group_by=group_by))
    return periods
