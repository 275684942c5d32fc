"""The usage page: a report over time with a chart and a CSV download (the API's CSV), the
tenants side by side, and for site admins every host's allocation against its capacity."""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from frontend.charts import stacked_bar_chart
from frontend.presenters import plain
from provisioning.selectors import host_utilisation_list
from tenants.selectors.accounting import MEASURES, usage_report
from tenants.selectors.tenants import tenant_current, tenant_list
from tenants.selectors.usage import tenant_quota, tenant_usage
from tenants.usage_query import UsageQueryForm

MEASURE_LABELS = {
    "core_hours": "Core-hours",
    "memory_gib_hours": "Memory GiB-hours",
    "gpu_hours": "GPU-hours",
    "sandbox_hours": "Sandbox-hours",
    "storage_gib_hours": "Storage GiB-hours",
}


@login_required
def usage_page(request):
    params = request.GET.copy()
    if "tenant" not in params and not request.user.is_site_admin:
        # Tenant admins and members start with the tenant they work in.
        current = tenant_current(request)
        params["tenant"] = current.slug if current else ""
    form = UsageQueryForm(params)
    measure = params.get("measure") if params.get("measure") in MEASURES else "core_hours"
    tenants = tenant_list(user=request.user)
    context = {
        "form": form,
        # What the filter inputs show: the raw input, or what it was read as once valid.
        "inputs": {name: params.get(name, "") for name in ("tenant", "user", "since", "until", "group_by")},
        "tenants": tenants,
        "measure": measure,
        "measures": list(MEASURE_LABELS.items()),
        "measure_label": MEASURE_LABELS[measure],
        "hosts": _hosts() if request.user.is_site_admin else None,
    }
    if form.is_valid():
        query = form.cleaned_data
        tenant = get_object_or_404(tenants, slug=query["tenant"]) if query["tenant"] else None
        report = usage_report(
            user=request.user,
            since=query["since"],
            until=query["until"],
            group_by=query["group_by"],
            tenant=tenant,
            username=query["user"] or None,
        )
        context.update(_report_context(report, query=query, tenant=tenant, tenants=tenants, measure=measure))
        context["inputs"].update(
            since=query["since"].date().isoformat(),
            until=query["until"].date().isoformat(),
            group_by=report.group_by,
        )
    return render(request, "frontend/usage/report.html", context)


def _rows(pairs) -> list[dict]:
    return [{"name": name, "amounts": [usage.as_dict()[m] for m in MEASURES]} for name, usage in pairs]


def _report_context(report, *, query, tenant, tenants, measure: str) -> dict:
    labels = [_period_label(period, report.group_by) for period in report.periods()]
    by_tenant, by_user = report.by("tenant"), report.by("user")
    # Stack the bars by whatever the report holds several of: tenants, else users, else apps.
    split = "tenant" if len(by_tenant) > 1 else "user" if len(by_user) > 1 else "catalog_item"
    chart = stacked_bar_chart(
        labels=labels,
        series=report.series(key=split, measure=measure),
        unit=MEASURE_LABELS[measure],
    )
    csv_query = {
        "tenant": query["tenant"],
        "user": query["user"],
        "since": query["since"].isoformat(),
        "until": query["until"].isoformat(),
        "group_by": report.group_by,
        "format": "csv",
    }
    return {
        "report": report,
        "tenant": tenant,
        "chart": chart,
        "split": split.replace("_", " "),
        "columns": [MEASURE_LABELS[m] for m in MEASURES],
        "totals": [report.totals.as_dict()[m] for m in MEASURES],
        "periods": _rows(zip(labels, (usage for _period, usage in report.by_period()), strict=True)),
        "by_tenant": _tenants_side_by_side(dict(by_tenant), tenants) if tenant is None else None,
        "by_user": _rows(by_user),
        "by_item": _rows(report.by("catalog_item")),
        "csv_url": f"{reverse('api-usage')}?{urlencode({k: v for k, v in csv_query.items() if v})}",
    }


def _period_label(period, group_by: str) -> str:
    return period.isoformat() if group_by == "day" else period.strftime("%Y-%m")


def _tenants_side_by_side(used: dict, tenants) -> list[dict]:
    """Every visible tenant, with or without usage in the period, and what it holds now."""
    rows = []
    for tenant in tenants:
        amounts = used.get(tenant.slug)
        quota, now = tenant_quota(tenant=tenant), tenant_usage(tenant=tenant)
        rows.append(
            {
                "name": tenant.slug,
                "amounts": [amounts.as_dict()[m] if amounts else Decimal("0") for m in MEASURES],
                "cpus_now": plain(now.cpus),
                "cpus_quota": plain(quota.cpus),
                "gpus_now": now.gpus,
                "gpus_quota": quota.gpus,
            }
        )
    return rows


def _hosts() -> list[dict]:
    def percent(part, whole) -> int:
        return round(100 * part / whole) if whole else 0

    return [
        {
            "name": line.host.name,
            "state": line.host.state,
            "nodes": line.nodes,
            "cpus_allocated": plain(line.cpus_allocated),
            "cpus_allocatable": plain(line.cpus_allocatable),
            "cpus_percent": percent(line.cpus_allocated, line.cpus_allocatable),
            "memory_allocated": line.memory_mib_allocated,
            "memory": line.host.memory_mib,
            "memory_percent": percent(line.memory_mib_allocated, line.host.memory_mib),
            "gpus_allocated": line.gpus_allocated,
            "gpus": line.gpus_total,
            "gpus_percent": percent(line.gpus_allocated, line.gpus_total),
        }
        for line in host_utilisation_list()
    ]
