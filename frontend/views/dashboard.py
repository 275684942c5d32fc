from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from frontend.presenters import usage_bars
from provisioning.selectors import sandbox_list
from provisioning.states import SANDBOX_BUSY
from tenants.selectors.tenants import tenant_current
from tenants.selectors.usage import tenant_quota, tenant_usage

#: How many of the user's sandboxes the dashboard lists; the Sandboxes page has them all.
RECENT = 8


@login_required
def dashboard(request):
    tenant = tenant_current(request)
    mine = list(sandbox_list(user=request.user).live().filter(owner=request.user)[:RECENT])
    bars = usage_bars(quota=tenant_quota(tenant=tenant), usage=tenant_usage(tenant=tenant)) if tenant else []
    return render(
        request,
        "frontend/dashboard.html",
        {
            "tenant": tenant,
            "sandboxes": mine,
            "busy": any(s.status in SANDBOX_BUSY for s in mine),
            "rows": bars,
        },
    )
