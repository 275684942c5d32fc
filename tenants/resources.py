"""Quota dimensions and the values that travel between the ledger and its callers."""

from dataclasses import dataclass, field, fields
from decimal import Decimal

from common.errors import Conflict

DIMENSIONS = ("cpus", "memory_mib", "gpus", "storage_gib", "sandboxes")


@dataclass(frozen=True)
class Resources:
    cpus: Decimal = Decimal("0")
    memory_mib: int = 0
    gpus: int = 0
    storage_gib: int = 0
    sandboxes: int = 0

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(**{name: getattr(self, name) + getattr(other, name) for name in DIMENSIONS})

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class AllocationRequest:
    """Ask the ledger to hold `resources` for `subject` (a stable name such as sandbox/12/node/3)."""

    subject: str
    resources: Resources
    attributes: dict = field(default_factory=dict)


class QuotaExceeded(Conflict):
    """The request would take the tenant over one of its limits; `extra` names what was hit
    (tenant, dimension, limit, in_use, requested), for the API's body and the pages."""

    code = "quota_exceeded"

    def __init__(self, *, tenant: str, dimension: str, limit, in_use, requested):
        self.tenant = tenant
        self.dimension = dimension
        self.limit = limit
        self.in_use = in_use
        self.requested = requested
        super().__init__(
            f"Tenant {tenant!r} is over its {dimension} quota: limit {limit}, in use {in_use}, "
            f"asked for {requested} more.",
            tenant=tenant,
            dimension=dimension,
            limit=limit,
            in_use=in_use,
            requested=requested,
        )
