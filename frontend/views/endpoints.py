"""Endpoint pages: the tenant's served models with their status and replicas; on an endpoint's
page its URL and the curl line, its keys (shown once, revoked), a rollout to another version,
its traffic as a live chart, its drift signal (recent inputs against the training data), and a
"try it" form."""

import json
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.client_ip import client_ip
from common.errors import ServiceError
from common.forms import add_service_error
from frontend.charts import stacked_bar_chart
from frontend.endpoint_forms import EndpointCreateForm, EndpointKeyForm, EndpointTryForm, EndpointVersionForm
from frontend.presenters import json_readable
from serving.selectors import endpoint_can_manage, endpoint_drift, endpoint_keys, endpoint_list
from serving.services.endpoints import endpoint_create, endpoint_delete, endpoint_update
from serving.services.examples import endpoint_request_example
from serving.services.gateway import endpoint_try
from serving.services.keys import endpoint_key_create, endpoint_key_revoke
from tenants.models import Tenant


@login_required
def endpoint_list_page(request):
    tenants = Tenant.objects.visible_to(request.user).order_by("slug")
    # The Models page's Deploy buttons come with the model version filled in.
    initial = {
        k: request.GET[k] for k in ("tenant", "name", "model_name", "model_version") if k in request.GET
    }
    form = EndpointCreateForm(request.POST or None, tenants=tenants, initial=initial)
    if request.method == "POST" and form.is_valid():
        args = form.cleaned_data
        try:
            endpoint = endpoint_create(
                owner=request.user,
                tenant=args["tenant"],
                name=args["name"],
                model_name=args["model_name"],
                model_version=args["model_version"],
                min_replicas=args["min_replicas"],
                max_replicas=args["max_replicas"],
                flavor=args["flavor"].name,
                ip=client_ip(request),
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Endpoint {endpoint.name} is being deployed.")
            return redirect("endpoint-detail", pk=endpoint.pk)
    return render(
        request,
        "frontend/endpoints/list.html",
        {"endpoints": endpoint_list(user=request.user).order_by("tenant__slug", "name"), "form": form},
    )


def _endpoint(request, pk):
    return get_object_or_404(endpoint_list(user=request.user), pk=pk)


def _managed(request, pk):
    endpoint = _endpoint(request, pk)
    if not endpoint_can_manage(user=request.user, endpoint=endpoint):
        raise PermissionDenied("Only the endpoint's owner and its tenant's admins may change it.")
    return endpoint


@login_required
def endpoint_detail_page(request, pk):
    endpoint = _endpoint(request, pk)
    context = _detail_context(request, endpoint)
    context.update(
        version_form=EndpointVersionForm(initial={"model_version": endpoint.model_version}),
        key_form=EndpointKeyForm(),
        try_form=EndpointTryForm(initial={"body": context["example"]}),
    )
    if request.method == "POST" and "body" in request.POST:
        try_form = EndpointTryForm(request.POST)
        context["try_form"] = try_form
        if try_form.is_valid():
            try:
                context["try_status"], answer = endpoint_try(
                    endpoint=endpoint, body=try_form.cleaned_data["body"]
                )
                context["try_answer"] = json_readable(answer)
            except ServiceError as exc:
                add_service_error(try_form, exc)
    return render(request, "frontend/endpoints/detail.html", context)


@login_required
def endpoint_status_fragment(request, pk):
    """The part of the page that htmx refreshes: status, replicas, the traffic chart, drift."""
    return render(
        request,
        "frontend/endpoints/_status.html",
        _detail_context(request, _endpoint(request, pk), fragment=True),
    )


def _detail_context(request, endpoint, *, fragment: bool = False) -> dict:
    traffic = getattr(endpoint, "traffic", None)
    history = traffic.history if traffic else []
    chart = stacked_bar_chart(
        labels=[at[11:19] for at, _ in history],
        series={"requests/s": [Decimal(str(rate)) for _, rate in history]},
        unit="requests/s",
        height=180,
    )
    latency = traffic.latency_sum_s / traffic.requests * 1000 if traffic and traffic.requests else None
    return {
        "endpoint": endpoint,
        "gateway_url": settings.GATEWAY_URL,
        "replicas": endpoint.live_replicas,
        "traffic": traffic,
        "mean_latency_ms": latency,
        "chart": chart,
        "drift": endpoint_drift(endpoint=endpoint),
        "can_manage": endpoint_can_manage(user=request.user, endpoint=endpoint),
        "keys": endpoint_keys(endpoint=endpoint)
        if endpoint_can_manage(user=request.user, endpoint=endpoint)
        else [],
        # The curl line and the "try it" form; the fragment htmx refreshes shows neither.
        "example": "" if fragment else json.dumps(endpoint_request_example(endpoint=endpoint)),
    }


@login_required
@require_POST
def endpoint_version_page(request, pk):
    endpoint = _managed(request, pk)
    form = EndpointVersionForm(request.POST)
    if form.is_valid():
        try:
            endpoint_update(
                endpoint=endpoint,
                actor=request.user,
                model_version=form.cleaned_data["model_version"],
                ip=client_ip(request),
            )
        except ServiceError as exc:
            messages.error(request, str(exc) or "; ".join(sum(exc.fields.values(), [])))
        else:
            messages.success(request, f"Rolling out version {form.cleaned_data['model_version']}.")
    return redirect("endpoint-detail", pk=pk)


@login_required
@require_POST
def endpoint_key_create_page(request, pk):
    endpoint = _managed(request, pk)
    form = EndpointKeyForm(request.POST)
    context = _detail_context(request, endpoint)
    if form.is_valid():
        try:
            _, context["new_key"] = endpoint_key_create(
                endpoint=endpoint, actor=request.user, name=form.cleaned_data["name"], ip=client_ip(request)
            )
        except ServiceError as exc:
            add_service_error(form, exc)
    context.update(
        version_form=EndpointVersionForm(initial={"model_version": endpoint.model_version}),
        key_form=form if "new_key" not in context else EndpointKeyForm(),
        try_form=EndpointTryForm(initial={"body": context["example"]}),
        keys=endpoint_keys(endpoint=endpoint),
    )
    return render(request, "frontend/endpoints/detail.html", context)


@login_required
@require_POST
def endpoint_key_revoke_page(request, pk, key_id):
    endpoint = _managed(request, pk)
    key = get_object_or_404(endpoint_keys(endpoint=endpoint), pk=key_id)
    endpoint_key_revoke(key=key, actor=request.user, ip=client_ip(request))
    messages.success(request, f"Key {key.name} revoked.")
    return redirect("endpoint-detail", pk=pk)


@login_required
@require_POST
def endpoint_delete_page(request, pk):
    endpoint = _managed(request, pk)
    endpoint_delete(endpoint=endpoint, actor=request.user, ip=client_ip(request))
    messages.success(request, f"Endpoint {endpoint.name} deleted; its replicas are being removed.")
    return redirect("endpoint-list")
