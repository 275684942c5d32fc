"""Shapes service and selector results into what the templates draw (quota bars)."""

from decimal import Decimal

from provisioning.selectors import QuotaLine
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
