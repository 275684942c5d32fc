"""Open Jupyter: the portal's door to the sandbox's JupyterLab, which the gateway serves. It
checks that the user may use the sandbox (a refusal page otherwise) and sends the browser to the
gateway URL of the server the sandbox already runs. A GET never changes anything: a stopped
sandbox gets a page whose button (a POST with its CSRF token) starts it, and while it starts a
page that looks again until it runs."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.client_ip import client_ip
from provisioning.errors import NoCapacity, NotFound, StateConflict
from provisioning.services.notebooks import NotebookForbidden, SandboxStopped, notebook_open
from tenants.resources import QuotaExceeded


@login_required
@require_http_methods(["GET", "POST"])
def notebook_open_page(request, pk: int):
    starting = request.method == "POST"
    try:
        url = notebook_open(user=request.user, sandbox_id=pk, start=starting, ip=client_ip(request))
    except NotFound:
        # The same answer for another tenant's sandbox and a missing one: nothing leaks.
        return render(request, "frontend/notebooks/refused.html", {"sandbox_id": pk}, status=404)
    except NotebookForbidden as exc:
        return render(
            request, "frontend/notebooks/refused.html", {"sandbox_id": pk, "reason": exc.message}, status=403
        )
    except SandboxStopped:
        return render(request, "frontend/notebooks/start.html", {"sandbox_id": pk})
    except (StateConflict, NoCapacity, QuotaExceeded) as exc:
        return render(
            request, "frontend/notebooks/unavailable.html", {"sandbox_id": pk, "reason": str(exc)}, status=409
        )
    if starting:
        return redirect("notebook-open", pk)  # and the GET waits there: a reload never starts twice
    if url is None:
        return render(request, "frontend/notebooks/starting.html", {"sandbox_id": pk})
    return redirect(url)
