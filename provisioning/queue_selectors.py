"""The launch queue as users and site admins see it: each queued sandbox's position, the fair-share
reason for it and an estimated wait."""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from provisioning.models import Sandbox, SandboxStatus
from provisioning.queue import estimated_wait_s, fairshare_factors, queue_order
from provisioning.services.admission import live_nodes_of, queued_launch
from tenants.models import Tenant
from tenants.selectors.fairshare import tenant_decayed_usage

#: Finished sandboxes of a size looked at for its typical lifetime.
LIFETIMES_SAMPLE = 50


@dataclass(frozen=True)
class QueueStanding:
    position: int  # 1: admitted first when room frees
    length: int
    factor: float
    share: float  # the tenant's fraction of all shares
    usage: float  # the tenant's fraction of the site's recent (decayed) use
    ahead_other_tenants: int
    ahead_same_tenant: int
    estimated_wait_s: float | None  # None: unknown, nothing of its size has finished yet

    @property
    def reason(self) -> str:
        parts = [
            f"Your tenant used {self.usage:.0%} of the site's recent use with {self.share:.0%} of "
            f"the shares, so its fair-share factor is {self.factor:.2f} (1 is the highest)."
        ]
        if self.ahead_other_tenants:
            parts.append(
                f"{self.ahead_other_tenants} launch(es) of other tenants go first: their "
                "tenants have a higher factor, or the same one and queued earlier."
            )
        if self.ahead_same_tenant:
            parts.append(f"{self.ahead_same_tenant} launch(es) of your tenant were queued earlier.")
        if not (self.ahead_other_tenants or self.ahead_same_tenant):
            parts.append("It is next: it starts as soon as a host has room for it.")
        return " ".join(parts)


def queue_standings(*, now=None) -> list[tuple[Sandbox, QueueStanding]]:
    """The whole queue in admission order (site admins see this; users only their own rows)."""
    now = now or timezone.now()
    queued = list(
        Sandbox.objects.filter(status=SandboxStatus.QUEUED).select_related("tenant", "owner", "flavor")
    )
    if not queued:
        return []
    shares = dict(Tenant.objects.values_list("slug", "share"))
    usage = tenant_decayed_usage(now=now, half_life=timedelta(days=settings.FAIRSHARE_HALF_LIFE_DAYS))
    total_share = sum(shares.values()) or 1
    total_usage = sum(usage.get(slug, 0.0) for slug in shares) or 1.0
    factors = fairshare_factors(usage=usage, shares=shares)
    nodes = live_nodes_of(queued)
    by_id = {s.pk: s for s in queued}
    order = queue_order([queued_launch(s, nodes[s.pk]) for s in queued], factors)
    lifetimes = _lifetimes(flavors={s.flavor_id for s in queued}, now=now)
    standings = []
    for position, launch in enumerate(order, start=1):
        sandbox = by_id[launch.id]
        ahead = order[: position - 1]
        same = sum(1 for other in ahead if other.tenant == launch.tenant)
        typical, remaining = lifetimes.get(sandbox.flavor_id, (None, []))
        standings.append(
            (
                sandbox,
                QueueStanding(
                    position=position,
                    length=len(order),
                    factor=factors.get(launch.tenant, 0.0),
                    share=shares.get(launch.tenant, 0) / total_share,
                    usage=usage.get(launch.tenant, 0.0) / total_usage,
                    ahead_other_tenants=len(ahead) - same,
                    ahead_same_tenant=same,
                    estimated_wait_s=estimated_wait_s(
                        position=position, remaining_s=remaining, typical_s=typical
                    ),
                ),
            )
        )
    return standings


def queue_standing_of(*, sandbox: Sandbox, standings: list | None = None) -> QueueStanding | None:
    if sandbox.status != SandboxStatus.QUEUED:
        return None
    for queued, standing in queue_standings() if standings is None else standings:
        if queued.pk == sandbox.pk:
            return standing
    return None


def _lifetimes(*, flavors: set[int], now) -> dict[int, tuple[float | None, list[float]]]:
    """Per flavor: the median lifetime of finished sandboxes of that size (None when none has
    finished), and how long each running one has left if it lives that long."""
    result = {}
    for flavor in flavors:
        finished = Sandbox.objects.filter(flavor_id=flavor, status=SandboxStatus.DELETED).order_by("-updated")
        spans = [
            (updated - created).total_seconds()
            for created, updated in finished.values_list("created", "updated")[:LIFETIMES_SAMPLE]
        ]
        typical = statistics.median(spans) if spans else None
        running = Sandbox.objects.filter(flavor_id=flavor, status=SandboxStatus.RUNNING).values_list(
            "created", flat=True
        )
        remaining = (
            [max(0.0, typical - (now - created).total_seconds()) for created in running]
            if typical is not None
            else []
        )
        result[flavor] = (typical, remaining)
    return result
