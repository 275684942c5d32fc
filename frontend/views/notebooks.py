"""Open Jupyter: the portal's door into the notebook gateway. It checks that the user may open
the sandbox (a refusal page otherwise), starts a stopped sandbox, and sends the browser to the
Hub, which logs the user in through the portal (OAuth2) and spawns the sandbox's server."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from common.client_ip import client_ip
from provisioning.errors import NoCapacity, NotFound, StateConflict
from provisioning.services.notebooks import hub_spawn_url, notebook_open
from tenants.quota import QuotaExceeded


@login_required
def notebook_open_page(request, pk: int):
    try:
        notebook = notebook_open(user=request.user, sandbox_id=pk, ip=client_ip(request))
    except NotFound:
        # The same answer for another tenant's sandbox and a missing one: nothing leaks.
        return render(request, "frontend/notebooks/refused.html", {"sandbox_id": pk}, status=404)
    except (StateConflict, NoCapacity, QuotaExceeded) as exc:
        return render(
            request, "frontend/notebooks/unavailable.html", {"sandbox_id": pk, "reason": str(exc)}, status=409
        )
    return redirect(hub_spawn_url(user=request.user, sandbox=notebook.sandbox))
