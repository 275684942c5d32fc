from rest_framework.settings import api_settings

# APIView list endpoints name it too, so that the schema documents their pages.
PAGINATION_CLASS = api_settings.DEFAULT_PAGINATION_CLASS


def paginated_response(*, queryset, serializer_class, request, view):
    """A page of `queryset` in the project's pagination format, for APIView list endpoints."""
    paginator = PAGINATION_CLASS()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
