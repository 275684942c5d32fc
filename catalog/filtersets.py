import django_filters
from django.db.models import Q

from catalog.models import CatalogItem


class CatalogItemFilterSet(django_filters.FilterSet):
    """Filters of the catalog, shared by the page and GET /api/v1/catalog/."""

    category = django_filters.ChoiceFilter(choices=CatalogItem.Category.choices)
    search = django_filters.CharFilter(method="filter_search", label="Search (name or slug)")
    enabled = django_filters.BooleanFilter()
    gpu_capable = django_filters.BooleanFilter()

    class Meta:
        model = CatalogItem
        fields = ["category", "search", "enabled", "gpu_capable"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))
