"""The question a usage report answers (tenant, user, period, grouping), parsed and checked in
one place for the API and the pages alike."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone

from tenants.selectors.accounting import GROUP_BY, period_next, period_start

#: The longest period one report may cover: three years of days is about a thousand rows.
MAX_PERIOD = timedelta(days=3 * 366)
#: Days and months are cut at UTC midnight; far-off years would only overflow the calendar.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
DEFAULT_DAYS = 30
DEFAULT_MONTHS = 12


class UsageQueryForm(forms.Form):
    """Every field is optional. Dates are ISO 8601 (2026-01-31 or 2026-01-31T12:00:00Z); one
    without a zone is UTC. By default a report covers the last 30 days up to the end of today,
    or the last 12 months up to the end of this month."""

    tenant = forms.SlugField(required=False, help_text="Slug of the tenant; all visible ones when empty")
    user = forms.CharField(required=False, max_length=150, help_text="Username; everybody when empty")
    since = forms.DateTimeField(required=False, help_text="Start of the period (included)")
    until = forms.DateTimeField(required=False, help_text="End of the period (excluded)")
    group_by = forms.ChoiceField(choices=[(g, g) for g in GROUP_BY], required=False, help_text="day or month")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        group_by = data.get("group_by") or "day"
        since, until = data.get("since"), data.get("until")
        for name, value in (("since", since), ("until", until)):
            if value is not None and not EARLIEST <= value < LATEST:
                self.add_error(name, "Use a date from 1970 to 8999.")
        if self.errors:
            return data
        if until is None:
            until = _end_of_current_period(group_by, after=since)
        if since is None:
            since = _default_since(until, group_by)
        if until <= since:
            self.add_error("until", "Must be later than since.")
        elif until - since > MAX_PERIOD:
            self.add_error("until", "A report covers at most three years; ask for a shorter period.")
        data.update(since=since, until=until, group_by=group_by)
        return data


def _end_of_current_period(group_by: str, *, after: datetime | None) -> datetime:
    now = timezone.now()
    if after is not None and after > now:
        now = after
    end = period_next(period_start(now, group_by=group_by), group_by=group_by)
    return datetime(end.year, end.month, end.day, tzinfo=UTC)


def _default_since(until: datetime, group_by: str) -> datetime:
    if group_by == "day":
        return until - timedelta(days=DEFAULT_DAYS)
    start = period_start(until - timedelta(microseconds=1), group_by="month")
    months = start.year * 12 + start.month - 1 - (DEFAULT_MONTHS - 1)
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)
