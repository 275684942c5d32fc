"""The audit log page, filtered, for site admins and tenant admins."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from common.errors import Invalid
from frontend.views.paging import paginate
from tenants.filtersets import AuditEventFilterSet
from tenants.selectors.audit import audit_can_view, audit_event_list


@login_required
def audit_list_page(request):
    if not audit_can_view(user=request.user):
        raise PermissionDenied("Only site admins and tenant admins can read the audit log.")
    filterset = AuditEventFilterSet(data=request.GET or None)
    filterset.form.is_valid()
    try:
        page = paginate(request, audit_event_list(user=request.user, filters=request.GET), per_page=50)
    except Invalid:
        page = paginate(request, [])
    return render(
        request,
        "frontend/audit/list.html",
        {"form": filterset.form, "page_obj": page, "events": page.object_list},
    )
