"""Reads of endpoints, replicas and keys; every query of tenant-owned rows starts from
`.visible_to(user)`."""

import dataclasses
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Sum

from serving.drift import Drift, drift_assess
from serving.models import Endpoint, EndpointKey, Replica
from serving.states import REPLICA_LIVE, REPLICA_SERVING


def endpoint_list(*, user):
    return (
        Endpoint.objects.visible_to(user)
        .live()
        .select_related("tenant", "owner", "flavor", "input_stats")
        .prefetch_related(
            Prefetch(
                "replicas",
                queryset=Replica.objects.filter(status__in=REPLICA_LIVE).select_related("host"),
                to_attr="live_replicas",
            )
        )
    )


def endpoint_can_manage(*, user, endpoint: Endpoint) -> bool:
    """Its owner, its tenant's admins and site admins change an endpoint and mint its keys."""
    if user.is_site_admin or endpoint.owner_id == user.pk:
        return True
    return Endpoint.objects.administered_by(user).filter(pk=endpoint.pk).exists()


def endpoint_drift(*, endpoint: Endpoint) -> Drift:
    """The endpoint's drift signal from the input statistics the reconciler last kept."""
    stats = getattr(endpoint, "input_stats", None)
    if stats is None:
        return drift_assess(
            inputs={}, training={}, training_read=False, threshold=settings.SERVING_DRIFT_THRESHOLD
        )
    drift = drift_assess(
        inputs=stats.window,
        training=stats.training,
        training_read=bool(stats.training_version),
        threshold=settings.SERVING_DRIFT_THRESHOLD,
    )
    return dataclasses.replace(drift, as_of=stats.window_updated, training_version=stats.training_version)


def endpoint_keys(*, endpoint: Endpoint):
    return EndpointKey.objects.filter(endpoint=endpoint).select_related("created_by")


def replica_serving_addresses(*, endpoint: Endpoint) -> list[str]:
    """ip:port of the replicas the gateway sends requests to."""
    return [
        f"{ip}:8080"
        for ip in Replica.objects.filter(endpoint=endpoint, status__in=REPLICA_SERVING, ip__isnull=False)
        .order_by("pk")
        .values_list("ip", flat=True)
    ]


def replica_usage_by_host(host_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """What live replicas hold on each host, for provisioning's placement."""
    rows = (
        Replica.objects.filter(host_id__in=host_ids, status__in=REPLICA_LIVE)
        .values("host")
        .annotate(cpus=Sum("cpus"), memory_mib=Sum("memory_mib"))
    )
    return {row["host"]: (row["cpus"] or Decimal("0"), row["memory_mib"] or 0) for row in rows}


def serving_owns_name(name: str) -> bool:
    """Whether a Docker object's name is one serving makes (endpoint_prefix)."""
    return name.startswith(f"{settings.SITE}-ep")
