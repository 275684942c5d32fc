"""GET /api/v1/usage/: a usage report in JSON, or its rows in CSV (`?format=csv` or
`Accept: text/csv`)."""

import csv
import io

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.selectors.accounting import MEASURES, UsageReport, usage_report
from tenants.selectors.tenants import tenant_list
from tenants.usage_query import UsageQueryForm

CSV_COLUMNS = ("period", "tenant", "user", "catalog_item", *MEASURES)


class UsageCsvRenderer(BaseRenderer):
    """The report's rows, one line per period, tenant, user and catalog item; an error body
    becomes one line of its fields."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        if isinstance(data, dict) and "rows" in data:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(data["rows"])
        elif isinstance(data, dict):
            writer = csv.writer(out)
            writer.writerow(data.keys())
            writer.writerow(_cell(value) for value in data.values())
        return out.getvalue().encode(self.charset)


def _cell(value) -> str:
    return "; ".join(map(str, value)) if isinstance(value, list) else str(value)


def _amounts(usage) -> dict[str, float]:
    return {name: float(value) for name, value in usage.as_dict().items()}


def report_body(report: UsageReport, *, tenant: str | None, user: str | None) -> dict:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "group_by": report.group_by,
        "tenant": tenant,
        "user": user,
        "totals": _amounts(report.totals),
        "periods": [{"period": p.isoformat(), **_amounts(u)} for p, u in report.by_period()],
        "tenants": [{"tenant": name, **_amounts(u)} for name, u in report.by("tenant")],
        "users": [{"user": name, **_amounts(u)} for name, u in report.by("user")],
        "catalog_items": [{"catalog_item": name, **_amounts(u)} for name, u in report.by("catalog_item")],
        "rows": [
            {
                "period": row.period.isoformat(),
                "tenant": row.tenant,
                "user": row.user,
                "catalog_item": row.catalog_item,
                **_amounts(row.usage),
            }
            for row in report.rows
        ],
    }


_AMOUNT_FIELDS = {name: serializers.FloatField() for name in MEASURES}


class UsageApi(APIView):
    """Core-hours, memory GiB-hours, GPU-hours, sandbox-hours and storage GiB-hours over
    [since, until), per day or month. Site admins read every tenant, tenant admins their
    tenants, members their own usage; a tenant the caller cannot see answers 404."""

    renderer_classes = [JSONRenderer, UsageCsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, description=str(field.help_text))
            for name, field in UsageQueryForm.base_fields.items()
        ]
        + [
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: the rows as CSV"
            )
        ],
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "UsageReport",
                    {
                        "since": serializers.DateTimeField(),
                        "until": serializers.DateTimeField(),
                        "group_by": serializers.ChoiceField(choices=["day", "month"]),
                        "tenant": serializers.CharField(allow_null=True),
                        "user": serializers.CharField(allow_null=True),
                        "totals": inline_serializer("UsageAmounts", _AMOUNT_FIELDS),
                        "periods": inline_serializer(
                            "UsagePeriod", {"period": serializers.DateField(), **_AMOUNT_FIELDS}, many=True
                        ),
                        "rows": inline_serializer(
                            "UsageRow",
                            {
                                "period": serializers.DateField(),
                                "tenant": serializers.CharField(),
                                "user": serializers.CharField(),
                                "catalog_item": serializers.CharField(),
                                **_AMOUNT_FIELDS,
                            },
                            many=True,
                        ),
                    },
                ),
                description="JSON, or text/csv with the rows",
            )
        },
    )
    def get(self, request):
        form = UsageQueryForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(_messages(form.errors))
        query = form.cleaned_data
        tenant = None
        if query["tenant"]:
            tenant = get_object_or_404(tenant_list(user=request.user), slug=query["tenant"])
        report = usage_report(
            user=request.user,
            since=query["since"],
            until=query["until"],
            group_by=query["group_by"],
            tenant=tenant,
            username=query["user"] or None,
        )
        response = Response(report_body(report, tenant=query["tenant"] or None, user=query["user"] or None))
        if request.accepted_renderer.format == "csv":
            name = f"usage-{query['tenant'] or 'all'}-{report.since:%Y%m%d}-{report.until:%Y%m%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _messages(errors) -> dict[str, list[str]]:
    return {field: list(messages) for field, messages in errors.items()}
