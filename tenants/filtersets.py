from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from tenants.models import AuditEvent


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, taken to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python
    parses, and a time that UTC cannot hold (year 1 at +05:00) is a clear 400, not a crash."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("This time is out of range.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """The time filter of every list (created_after, since...)."""

    field_class = UtcIsoDateTimeField


class AuditEventFilterSet(django_filters.FilterSet):
    """Filters of the audit log, shared by the page and GET /api/v1/audit/."""

    actor = django_filters.CharFilter(field_name="actor_username", label="Actor (username)")
    action = django_filters.CharFilter(
        method="filter_action", label="Action", help_text='Exact ("member.add") or a family ("member.")'
    )
    tenant = django_filters.CharFilter(field_name="tenant__slug", label="Tenant (slug)")
    object_type = django_filters.CharFilter(label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
    result = django_filters.ChoiceFilter(choices=AuditEvent.Result.choices)
    since = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte", label="Since")
    until = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt", label="Until")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "tenant", "object_type", "object_id", "result", "since", "until"]

    def filter_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)
