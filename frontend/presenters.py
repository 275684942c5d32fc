"""Shapes service and selector results into what the templates draw (quota bars, operation
progress), so that templates compare no state by hand."""

from decimal import Decimal

from provisioning.models import Operation
from provisioning.selectors import QuotaLine
from provisioning.states import OPERATION_FINAL, OperationStatus
from tenants.quota import DIMENSIONS, Resources

LABELS = {
    "cpus": "CPUs (cores)",
    "memory_mib": "Memory (MiB)",
    "gpus": "GPUs",
    "storage_gib": "Storage (GiB)",
    "sandboxes": "Sandboxes",
}


def _num(value):
    return f"{value.normalize():f}" if isinstance(value, Decimal) else value


def quota_bars(lines: list[QuotaLine]) -> list[dict]:
    return [
        {
            "name": line.name,
            "label": LABELS[line.name],
            "used": _num(line.in_use),
            "limit": _num(line.limit),
            "asked": _num(line.asked) if line.asked else None,
            "over": line.over,
            "message": (
                f"Over the {LABELS[line.name].lower()} quota: {_num(line.in_use)} in use "
                f"+ {_num(line.asked)} asked > {_num(line.limit)}."
            ),
        }
        for line in lines
    ]


def usage_bars(*, quota: Resources, usage: Resources) -> list[dict]:
    lines = [
        QuotaLine(name=name, limit=getattr(quota, name), in_use=getattr(usage, name), asked=0)
        for name in DIMENSIONS
    ]
    rows = quota_bars(lines)
    for row, name in zip(rows, DIMENSIONS, strict=True):
        row["over"] = getattr(usage, name) > getattr(quota, name)
    return rows


def operation_rows(operations: list[Operation]) -> list[dict]:
    """Each operation with what its progress bar shows: full once it is over, red if it failed."""
    return [
        {"op": op, "over": op.status in OPERATION_FINAL, "failed": op.status == OperationStatus.FAILED}
        for op in operations
    ]
