"""Sandbox pages: list with live status, launch form with a live quota check, detail with
nodes, endpoints, operations and logs, and the actions (start, stop, resize, delete)."""

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.selectors import catalog_item_list_launchable, flavor_list
from common.client_ip import client_ip
from common.forms import add_service_error
from frontend.forms import SandboxLaunchForm, SandboxResizeForm
from frontend.presenters import operation_rows, quota_bars
from frontend.views.guards import visible_sandbox
from frontend.views.paging import paginate
from provisioning.errors import InvalidRequest, NoCapacity, NotFound, StateConflict
from provisioning.queue_selectors import queue_standing_of
from provisioning.selectors import (
    datatap_list,
    node_logs,
    sandbox_actions,
    sandbox_can_manage,
    sandbox_change_stamp,
    sandbox_endpoints,
    sandbox_launch_check,
    sandbox_list,
    sandbox_live_nodes,
    sandbox_operations,
)
from provisioning.services import sandboxes as sandbox_services
from provisioning.services.notebooks import notebook_gateway_url
from provisioning.states import OPERATION_ACTIVE, SANDBOX_BUSY, SANDBOX_FINAL, SANDBOX_TROUBLED, SandboxStatus
from tenants.resources import QuotaExceeded
from tenants.selectors.tenants import tenant_current

#: Where a quota error belongs in the launch form: the field whose value asked for too much.
QUOTA_FIELD = {
    "cpus": "flavor",
    "memory_mib": "flavor",
    "storage_gib": "flavor",
    "gpus": "gpus_per_node",
    "sandboxes": None,
}


def _live(request, template: str, context: dict):
    """The whole page, or only its live part when htmx polls for it."""
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, template, context)
    return None


@login_required
def sandbox_list_page(request):
    sandboxes = sandbox_list(user=request.user).live()
    status = request.GET.get("status", "")
    if status in SandboxStatus.values:
        sandboxes = sandboxes.filter(status=status)
    page = paginate(request, sandboxes)
    context = {
        "page_obj": page,
        "sandboxes": page.object_list,
        "busy": any(s.status in SANDBOX_BUSY for s in page.object_list),
        "statuses": [
            (value, meaning) for value, meaning in SandboxStatus.choices if value not in SANDBOX_FINAL
        ],
        "status": status,
    }
    return _live(request, "frontend/sandboxes/_table.html", context) or render(
        request, "frontend/sandboxes/list.html", context
    )


def _launch_form(request, data=None):
    """The launch form for the app the request names (posted, or ?app=), in the current tenant."""
    tenant = tenant_current(request)
    source = data if data is not None else request.GET
    slug = source.get("catalog_item") or request.GET.get("app")
    items = catalog_item_list_launchable()
    item = items.filter(slug=slug).first() if slug else None
    item = item or items.first()
    taps = datatap_list(user=request.user).filter(tenant=tenant) if tenant else []
    # Re-drawn for another app, the form keeps the name typed so far.
    initial = {"name": request.GET.get("name", "")}
    if item is not None:
        initial["catalog_item"] = item.slug
    form = SandboxLaunchForm(data, item=item, datataps=list(taps), initial=initial)
    form.fields["catalog_item"].widget.attrs.update(
        {
            "hx-get": reverse("sandbox-launch"),
            "hx-include": "closest form",
            "hx-target": "#launch-form",
            "hx-select": "#launch-form",
            "hx-swap": "outerHTML",
            # Its own queue: the form's quota check (same change event) must not cancel it.
            "hx-sync": "this:replace",
        }
    )
    return tenant, form


@login_required
def sandbox_launch_page(request):
    # A GET draws the form for ?app= or, when htmx asks after a change of app, for the chosen
    # catalog_item: the page then swaps in the form with that app's roles.
    tenant, form = _launch_form(request, request.POST if request.method == "POST" else None)
    if tenant is None:
        messages.error(request, "You belong to no tenant yet: ask a tenant admin to add you.")
        return redirect("dashboard")
    if request.method == "POST" and form.is_valid():
        args = form.cleaned_data
        try:
            sandbox = sandbox_services.sandbox_create(
                owner=request.user,
                tenant=tenant,
                name=args["name"],
                catalog_item=args["catalog_item"],
                flavor=args["flavor"],
                nodes=form.nodes(),
                gpus_per_node=args.get("gpus_per_node") or 0,
                datataps=args.get("datataps") or [],
                ip=client_ip(request),
            )
        except (InvalidRequest, NotFound) as exc:
            add_service_error(form, exc, field_names={"nodes": form.field_for("nodes")})
        except QuotaExceeded as exc:
            form.add_error(form.field_for(QUOTA_FIELD[exc.dimension] or ""), str(exc))
        except NoCapacity as exc:
            form.add_error(None, f"No host can take this sandbox now: {exc}")
        else:
            if sandbox.status == SandboxStatus.QUEUED:
                messages.info(request, f"No host has room for {sandbox.name} now: it waits in the queue.")
            else:
                messages.success(request, f"Launching {sandbox.name}.")
            return redirect("sandbox-detail", pk=sandbox.pk)
    return render(request, "frontend/sandboxes/launch.html", {"form": form, "tenant": tenant})


@login_required
def sandbox_launch_check_page(request):
    """The quota panel of the launch form: what this launch would hold against the quota."""
    tenant, form = _launch_form(request, request.GET)
    context = {"tenant": tenant, "rows": None}
    flavor = flavor_list().filter(name=request.GET.get("flavor", "")).first()
    if tenant is not None and form.item is not None and flavor is not None:
        # Fields typed wrong so far count at their defaults; the form says what is wrong on submit.
        form.is_valid()
        lines = sandbox_launch_check(
            tenant=tenant,
            flavor=flavor,
            nodes=form.nodes(),
            gpus_per_node=form.cleaned_data.get("gpus_per_node") or 0,
        )
        context["rows"] = quota_bars(lines)
        context["over"] = [row for row in context["rows"] if row["over"]]
    return render(request, "frontend/sandboxes/_launch_check.html", context)


#: While a sandbox works, its page asks this often whether anything changed: a launch's end
#: shows within about half of it. An unchanged answer is a 204 from one query, nothing rendered.
LIVE_LOOK_EVERY_MS = 250
#: ...and renders its live part at least this often all the same, for what the stamp leaves out
#: (a queued launch's position moves with other launches): the pace it had before the stamp.
LIVE_RENDER_EVERY_S = 2.0


MANAGE = "Only the sandbox's owner and its tenant's admins may change it."


def _detail_context(request, sandbox, *, stamp: str = "") -> dict:
    operations = sandbox_operations(sandbox=sandbox)
    manifest = sandbox.catalog_item.spec
    live_nodes = sandbox_live_nodes(sandbox=sandbox)
    counts = {role: sum(1 for n in live_nodes if n.role == role) for role in manifest.roles}
    resize = SandboxResizeForm(item=sandbox.catalog_item, counts=counts)
    return {
        "sandbox": sandbox,
        "nodes": live_nodes,
        "endpoints": sandbox_endpoints(sandbox=sandbox),
        "operations": operation_rows(operations),
        "actions": sandbox_actions(user=request.user, sandbox=sandbox),
        "notebook_url": _notebook_url(request, sandbox),
        "troubled": sandbox.status in SANDBOX_TROUBLED,
        "busy": sandbox.status in SANDBOX_BUSY or any(op.status in OPERATION_ACTIVE for op in operations),
        "resize_form": resize if resize.fields else None,
        "queue": queue_standing_of(sandbox=sandbox),
        # What the live part's next look sends back (sandbox_detail_page answers 204 to it while
        # nothing changed).
        "stamp": stamp or sandbox_change_stamp(sandbox=sandbox),
        "rendered_at": f"{time.time():.3f}",
        "look_every_ms": LIVE_LOOK_EVERY_MS,
    }


def _notebook_url(request, sandbox) -> str:
    """Where *Open Jupyter* goes, for whoever may use the running sandbox: straight to its
    JupyterLab through the gateway, which checks who passes itself (one hop less than the
    portal's door, /sandboxes/<id>/jupyter/, whose check is the same). "" when there is none."""
    if not sandbox.catalog_item.spec.has_jupyter or sandbox.status != SandboxStatus.RUNNING:
        return ""
    if not sandbox_can_manage(user=request.user, sandbox=sandbox):
        return ""
    try:
        return notebook_gateway_url(sandbox=sandbox)
    except StateConflict:  # its Jupyter node does not run (yet): the door says so
        return reverse("notebook-open", args=[sandbox.pk])


@login_required
def sandbox_detail_page(request, pk: int):
    sandbox = visible_sandbox(request, pk)
    stamp = sandbox_change_stamp(sandbox=sandbox)
    if _seen(request, stamp):
        return HttpResponse(status=204)  # htmx keeps the page as it is
    context = _detail_context(request, sandbox, stamp=stamp)
    return _live(request, "frontend/sandboxes/_live.html", context) or render(
        request, "frontend/sandboxes/detail.html", context
    )


def _seen(request, stamp: str) -> bool:
    """Whether the page that asks already shows this state, rendered recently enough."""
    if not request.headers.get("HX-Request") or request.GET.get("stamp") != stamp:
        return False
    try:
        return time.time() - float(request.GET.get("at", "")) < LIVE_RENDER_EVERY_S
    except ValueError:
        return False


def _act(request, pk, service, done: str, **kwargs):
    sandbox = visible_sandbox(request, pk, manage=MANAGE)
    try:
        service(sandbox=sandbox, actor=request.user, ip=client_ip(request), **kwargs)
    except (StateConflict, NoCapacity, QuotaExceeded) as exc:
        messages.error(request, str(exc))
    except InvalidRequest as exc:
        messages.error(request, " ".join(p for problems in exc.fields.values() for p in problems))
    else:
        messages.success(request, f"{done} {sandbox.name}.")
    return redirect("sandbox-detail", pk=sandbox.pk)


@login_required
@require_POST
def sandbox_stop_page(request, pk: int):
    return _act(request, pk, sandbox_services.sandbox_stop, "Stopping")


@login_required
@require_POST
def sandbox_start_page(request, pk: int):
    return _act(request, pk, sandbox_services.sandbox_start, "Starting")


@login_required
@require_POST
def sandbox_resize_page(request, pk: int):
    sandbox = visible_sandbox(request, pk, manage=MANAGE)
    context = _detail_context(request, sandbox)
    form = SandboxResizeForm(request.POST, item=sandbox.catalog_item, counts={})
    if not form.is_valid():
        context["resize_form"] = form
        return render(request, "frontend/sandboxes/detail.html", context, status=400)
    return _act(request, pk, sandbox_services.sandbox_resize, "Resizing", nodes=form.nodes())


@login_required
def sandbox_delete_page(request, pk: int):
    """GET asks for confirmation; POST deletes."""
    sandbox = visible_sandbox(request, pk, manage=MANAGE)
    if request.method == "POST":
        return _act(request, pk, sandbox_services.sandbox_delete, "Deleting")
    return render(request, "frontend/sandboxes/delete.html", {"sandbox": sandbox})


@login_required
def node_logs_page(request, pk: int):
    sandbox = visible_sandbox(request, pk)
    node_id = request.GET.get("node", "")
    if not node_id.isdigit():
        raise Http404("Choose a node.")
    node = get_object_or_404(sandbox.nodes.select_related("host"), pk=int(node_id))
    return render(request, "frontend/sandboxes/_logs.html", {"node": node, "logs": node_logs(node=node)})
