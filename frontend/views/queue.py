"""The site admin's view of the launch queue: every queued launch, per host pool, in admission
order, with its fair-share factor."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from provisioning.queue_selectors import queue_standings


@login_required
def queue_page(request):
    if not request.user.is_site_admin:
        raise PermissionDenied("Only site admins see the whole queue.")
    pools: dict[str, list] = {}
    for sandbox, standing in queue_standings():
        labels = ", ".join(f"{k}={v}" for k, v in sorted(sandbox.host_labels.items()))
        pools.setdefault(labels or "any host", []).append((sandbox, standing))
    return render(
        request,
        "frontend/queue/list.html",
        {"pools": sorted(pools.items()), "half_life_days": settings.FAIRSHARE_HALF_LIFE_DAYS},
    )
