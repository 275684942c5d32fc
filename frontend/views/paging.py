from django.core.paginator import Page, Paginator

PAGE_SIZE = 20


def paginate(request, queryset, *, per_page: int = PAGE_SIZE) -> Page:
    """The page the request asks for (?page=N); an out-of-range or bad number gives the nearest."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
