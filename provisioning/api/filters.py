import django_filters

from provisioning.models import DataTap, Host, Operation, OperationStatus, Sandbox, SandboxStatus
from tenants.filtersets import UtcIsoDateTimeFilter

# A status or kind is a column of the listed row itself, so a row matches at most once: no
# DISTINCT, which django-filter adds to a MultipleChoiceFilter by default and which made every
# filtered listing (the scripts' and pages' polling of ?status=...) de-duplicate whole rows.


class SandboxFilter(django_filters.FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__slug")
    owner = django_filters.CharFilter(field_name="owner__username")
    catalog_item = django_filters.CharFilter(field_name="catalog_item__slug")
    status = django_filters.MultipleChoiceFilter(choices=SandboxStatus.choices, distinct=False)
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=["created", "updated", "name", "status"])

    class Meta:
        model = Sandbox
        fields = ["tenant", "owner", "catalog_item", "status"]


class OperationFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Operation.Kind.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=OperationStatus.choices, distinct=False)
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=["created", "finished", "status"])

    class Meta:
        model = Operation
        fields = ["kind", "status"]


class DataTapFilter(django_filters.FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Only this tenant's (slug)")
    kind = django_filters.ChoiceFilter(choices=DataTap.Kind.choices)
    created_by = django_filters.CharFilter(field_name="created_by__username")
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=["created", "name"])

    class Meta:
        model = DataTap
        fields = ["tenant", "kind"]


class HostFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=Host.State.choices, distinct=False)
    ordering = django_filters.OrderingFilter(fields=["name", "created", "last_seen"])

    class Meta:
        model = Host
        fields = ["state"]
