import django_filters

from tenants.models import AuditEvent


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
    since = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte", label="Since")
    until = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt", label="Until")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "tenant", "object_type", "object_id", "result", "since", "until"]

    def filter_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)
