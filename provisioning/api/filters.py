import django_filters

from provisioning.models import Sandbox, SandboxStatus


class SandboxFilter(django_filters.FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__slug")
    owner = django_filters.CharFilter(field_name="owner__username")
    catalog_item = django_filters.CharFilter(field_name="catalog_item__slug")
    status = django_filters.MultipleChoiceFilter(choices=SandboxStatus.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=["created", "updated", "name", "status"])

    class Meta:
        model = Sandbox
        fields = ["tenant", "owner", "catalog_item", "status"]
