"""Shapes service and selector results into what the templates draw: numbers as people write
them, the quota bars of the dashboard, the tenant page and the launch check, and operation
progress, so that templates compare no state by hand."""

import json
from decimal import Decimal

from provisioning.models import Operation
from provisioning.selectors import QuotaLine, operation_phases
from provisioning.states import OPERATION_FINAL, OperationStatus
from tenants.resources import DIMENSIONS, Resources

LABELS = {
    "cpus": "CPUs (cores)",
    "memory_mib": "Memory (MiB)",
    "gpus": "GPUs",
    "storage_gib": "Storage (GiB)",
    "sandboxes": "Sandboxes",
}

#: What an over-quota bar says when nothing is being asked: only an admin lowering a limit gets there.
LOWERED = "Over quota: a site admin lowered the limit below what is in use."


def plain(value):
    """A decimal without trailing zeros or exponent: 8.00 -> 8, 0.50 -> 0.5, 1E+2 -> 100;
    anything else as it is."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


def json_readable(text: str) -> str:
    """A JSON answer indented, so that a prediction deep in it shows; any other text as it is."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def quota_bars(lines: list[QuotaLine]) -> list[dict]:
    """One bar per dimension: in use, asked (a launch being checked) and the limit."""
    return [
        {
            "name": line.name,
            "label": LABELS[line.name],
            "used": plain(line.in_use),
            "limit": plain(line.limit),
            "asked": plain(line.asked) if line.asked else None,
            "over": line.over,
            "message": (
                f"Over the {LABELS[line.name].lower()} quota: {plain(line.in_use)} in use "
                f"+ {plain(line.asked)} asked > {plain(line.limit)}."
            ),
        }
        for line in lines
    ]


def usage_bars(*, quota: Resources, usage: Resources) -> list[dict]:
    """The bars of what a tenant holds now against its quota, nothing asked."""
    lines = [
        QuotaLine(name=name, limit=getattr(quota, name), in_use=getattr(usage, name), asked=0)
        for name in DIMENSIONS
    ]
    rows = quota_bars(lines)
    for row, name in zip(rows, DIMENSIONS, strict=True):
        row["over"] = getattr(usage, name) > getattr(quota, name)
        row["message"] = LOWERED
    return rows


def operation_rows(operations: list[Operation]) -> list[dict]:
    """Each operation with what its progress bar shows (full once it is over, red if it failed)
    and the milestones it passed, so a slow launch shows where its time went."""
    return [
        {
            "op": op,
            "over": op.status in OPERATION_FINAL,
            "failed": op.status == OperationStatus.FAILED,
            "phases": operation_phases(operation=op),
        }
        for op in operations
    ]
