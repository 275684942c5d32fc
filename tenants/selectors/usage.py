from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce

from tenants.models import Allocation, Tenant
from tenants.resources import DIMENSIONS, Resources


def tenant_usage(*, tenant: Tenant) -> Resources:
    """What the tenant holds now: the sum of its live allocations. The only usage computation."""
    totals = Allocation.objects.filter(tenant=tenant, ended__isnull=True).aggregate(
        cpus=Coalesce(Sum("cpus"), Decimal("0")),
        **{name: Coalesce(Sum(name), 0) for name in DIMENSIONS if name != "cpus"},
    )
    return Resources(**totals)


def tenant_quota(*, tenant: Tenant) -> Resources:
    return Resources(**{name: getattr(tenant, f"quota_{name}") for name in DIMENSIONS})
