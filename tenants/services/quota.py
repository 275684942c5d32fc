"""The quota ledger: the one place that reserves and releases a tenant's resources."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tenants.models import Allocation, Tenant, User
from tenants.resources import DIMENSIONS, AllocationRequest, QuotaExceeded, Resources
from tenants.selectors.usage import tenant_quota, tenant_usage


def quota_reserve(
    *,
    tenant: Tenant,
    owner: User | None,
    group: str,
    requests: Sequence[AllocationRequest],
    at: datetime | None = None,
) -> list[Allocation]:
    """Hold resources for each request, or raise QuotaExceeded and hold nothing.

    Must run inside the caller's transaction (the one that creates or grows the sandbox), so
    the reservation commits or rolls back with it. The tenant row is locked so concurrent
    reservations queue up instead of both seeing the same free room. A subject that already
    holds a live allocation is not counted twice: retries are safe.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota_reserve must run inside the transaction that uses the resources")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    live = set(
        Allocation.objects.filter(subject__in=[r.subject for r in requests], ended__isnull=True).values_list(
            "subject", flat=True
        )
    )
    new = [r for r in requests if r.subject not in live]
    asked = sum((r.resources for r in new), Resources())
    in_use = tenant_usage(tenant=tenant)
    limit = tenant_quota(tenant=tenant)
    for name in DIMENSIONS:
        want = getattr(asked, name)
        if want and getattr(in_use, name) + want > getattr(limit, name):
            raise QuotaExceeded(
                tenant=tenant.slug,
                dimension=name,
                limit=getattr(limit, name),
                in_use=getattr(in_use, name),
                requested=want,
            )
    started = at or timezone.now()
    return Allocation.objects.bulk_create(
        Allocation(
            tenant=tenant,
            owner=owner,
            group=group,
            subject=r.subject,
            attributes=r.attributes,
            started=started,
            **r.resources.as_dict(),
        )
        for r in new
    )


def quota_release(*, group: str, subjects: Iterable[str] | None = None, at: datetime | None = None) -> int:
    """End the live allocations of a group (all of them, or only `subjects`). Call it when the
    resources are really freed. Releasing what is already released does nothing."""
    live = Allocation.objects.filter(group=group, ended__isnull=True)
    if subjects is not None:
        live = live.filter(subject__in=list(subjects))
    return live.update(ended=at or timezone.now())


def quota_mark_queued(*, group: str) -> None:
    """The group's live reservations wait in the launch queue: they hold quota, but fair share
    does not count them as use (see quota_admit)."""
    rows = list(Allocation.objects.filter(group=group, ended__isnull=True))
    for row in rows:
        row.attributes = {**row.attributes, "queued": True}
    Allocation.objects.bulk_update(rows, ["attributes"])


def quota_admit(*, group: str, at: datetime | None = None) -> int:
    """The group's queued reservations are admitted: each ends and an identical one, not marked
    queued, starts at the same moment. The ledger keeps both intervals, and use is counted from
    admission. Holds the same amounts throughout, so there is nothing to check or lock."""
    at = at or timezone.now()
    queued = list(Allocation.objects.filter(group=group, ended__isnull=True, attributes__queued=True))
    Allocation.objects.filter(pk__in=[row.pk for row in queued]).update(ended=at)
    for row in queued:
        row.pk = None
        row.started = at
        row.attributes = {k: v for k, v in row.attributes.items() if k != "queued"}
    Allocation.objects.bulk_create(queued)
    return len(queued)
