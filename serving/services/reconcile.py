"""The serving reconciler, run by beat: for every endpoint, read its replicas' request counters
and input summaries (each replica's Prometheus /metrics), keep the endpoint's traffic totals and
the inputs' window merged over its replicas (the drift signal's serving side), decide the replica
count from the measured request rate (scale to zero after SERVING_IDLE_S without a request when
min is 0), and hand any endpoint whose replicas are not what is wanted (one died, or its host
went away) to a converge. It also removes what no live endpoint owns: containers, networks and
gateway routes of this site's endpoints that were deleted."""

import logging
import math
import re
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import DriverError, driver_for_host
from provisioning.models import Host
from provisioning.states import HostState
from serving.input_stats import input_windows_merge, replica_summaries_parse
from serving.models import Endpoint, EndpointInputStats, EndpointTraffic, Replica
from serving.selectors import serving_owns_name
from serving.services.endpoints import endpoint_converge_soon, endpoint_scale
from serving.services.routes import route_names, route_remove_named
from serving.states import ENDPOINT_BUSY, REPLICA_LIVE, EndpointStatus, ReplicaStatus

log = logging.getLogger(__name__)

#: A sample of the Prometheus text format with labels.
# Greedy: MLServer's path label holds braces of its own (/v2/models/{model_name}/infer).
METRIC_LINE = re.compile(r"^(?P<name>[a-z_]+)\{(?P<labels>.*)\}\s+(?P<value>[0-9.e+-]+)$")
HISTORY_POINTS = 60


def serving_reconcile() -> dict:
    report = {"converged": [], "scaled": [], "orphans_removed": 0}
    for endpoint in Endpoint.objects.live().select_related("tenant"):
        rate = traffic_measure(endpoint=endpoint)
        if endpoint.status in ENDPOINT_BUSY:
            continue
        if _needs_converge(endpoint):
            endpoint_converge_soon(endpoint=endpoint)
            report["converged"].append(endpoint.pk)
            continue
        if endpoint.status == EndpointStatus.READY and endpoint_scale(
            endpoint=endpoint, replicas=_wanted_replicas(endpoint, rate)
        ):
            report["scaled"].append(endpoint.pk)
    for endpoint in Endpoint.objects.filter(
        status=EndpointStatus.DELETED, replicas__status__in=REPLICA_LIVE
    ).distinct():
        endpoint_converge_soon(endpoint=endpoint)
    report["orphans_removed"] = _remove_orphans()
    return report


def _wanted_replicas(endpoint: Endpoint, rate: float) -> int:
    idle_since = endpoint.last_request or endpoint.created
    if endpoint.min_replicas == 0 and timezone.now() - idle_since > timedelta(
        seconds=settings.SERVING_IDLE_S
    ):
        return 0
    return max(1, math.ceil(rate / settings.SERVING_TARGET_RPS))


def _needs_converge(endpoint: Endpoint) -> bool:
    replicas = list(endpoint.replicas.filter(status__in=REPLICA_LIVE).select_related("host"))
    if len(replicas) != endpoint.desired_replicas or any(r.status != ReplicaStatus.READY for r in replicas):
        return True
    by_host: dict[int, list[Replica]] = {}
    for replica in replicas:
        by_host.setdefault(replica.host_id, []).append(replica)
    for group in by_host.values():
        host = group[0].host
        if host.state != HostState.READY:
            return True
        try:
            running = {c.name for c in driver_for_host(host, timeout=10).list_managed() if c.running}
        except DriverError:
            return True
        if any(r.container_name not in running for r in group):
            return True
    return False


def traffic_measure(*, endpoint: Endpoint) -> float:
    """Add what each ready replica served since the last look to the endpoint's totals, and keep
    their inputs' summaries; returns the endpoint's request rate (per second) over that time."""
    traffic, _ = EndpointTraffic.objects.get_or_create(endpoint=endpoint)
    now = timezone.now()
    requests = errors = 0
    latency = 0.0
    buckets: dict[str, float] = {}
    summaries = []
    for replica in endpoint.replicas.filter(status=ReplicaStatus.READY, ip__isnull=False):
        text = _scrape(replica.ip)
        if text is None:
            continue
        summaries.append((replica.model_version, *replica_summaries_parse(text)))
        counters = replica_counters_parse(text)
        before = replica.counters or {}
        # A replica that restarted counts from zero again: its whole count is new.
        restarted = counters["requests"] < before.get("requests", 0)
        base = {} if restarted else before
        requests += counters["requests"] - base.get("requests", 0)
        errors += counters["errors"] - base.get("errors", 0)
        latency += counters["latency_sum_s"] - base.get("latency_sum_s", 0.0)
        for bound, count in counters["buckets"].items():
            buckets[bound] = buckets.get(bound, 0) + count - base.get("buckets", {}).get(bound, 0)
        Replica.objects.filter(pk=replica.pk).update(counters=counters)
    elapsed = max((now - traffic.updated).total_seconds(), 1.0)
    rate = requests / elapsed
    merged = dict(traffic.buckets)
    for bound, count in buckets.items():
        merged[bound] = merged.get(bound, 0) + count
    history = [*traffic.history, [now.isoformat(), round(rate, 3)]][-HISTORY_POINTS:]
    EndpointTraffic.objects.filter(pk=traffic.pk).update(
        requests=F("requests") + requests,
        errors=F("errors") + errors,
        latency_sum_s=F("latency_sum_s") + latency,
        buckets=merged,
        history=history,
        updated=now,
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(request_rate=rate)
    input_stats_record(endpoint=endpoint, summaries=summaries)
    return rate


def input_stats_record(*, endpoint: Endpoint, summaries: list[tuple[str, dict, dict | None]]) -> None:
    """Keep the endpoint's inputs window, merged from its replicas' (model version, inputs,
    training) summaries, and the training statistics of the version it serves. A pass where no
    replica has seen a request leaves the last window in place."""
    if not summaries:
        return
    changes = {}
    windows = [inputs for _version, inputs, _training in summaries if inputs]
    if windows:
        changes.update(window=input_windows_merge(windows), window_updated=timezone.now())
    # During a rollout replicas serve two versions: the training data is the wanted one's.
    current = [
        training
        for version, _inputs, training in summaries
        if version == endpoint.model_version and training is not None
    ]
    if current:
        changes.update(training=current[0], training_version=endpoint.model_version)
    if changes:
        EndpointInputStats.objects.update_or_create(endpoint=endpoint, defaults=changes)


def _scrape(ip: str) -> str | None:
    """The replica's Prometheus text (MLServer's metrics port, 8082)."""
    try:
        with urllib.request.urlopen(f"http://{ip}:8082/metrics", timeout=2) as answer:  # noqa: S310
            return answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None


def replica_counters_parse(text: str) -> dict:
    """Requests, errors (4xx and 5xx), latency sum and histogram of the inference path, from a
    replica's Prometheus text."""
    counters = {"requests": 0, "errors": 0, "latency_sum_s": 0.0, "buckets": {}}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match is None or 'path="/v2/models/{model_name}/infer"' not in match["labels"]:
            continue
        value = float(match["value"])
        name = match["name"]
        if name == "rest_server_requests_total":
            counters["requests"] += int(value)
            if re.search(r'status_code="[45]', match["labels"]):
                counters["errors"] += int(value)
        elif name == "rest_server_request_duration_seconds_sum":
            counters["latency_sum_s"] += value
        elif name == "rest_server_request_duration_seconds_bucket":
            bound = re.search(r'le="([^"]+)"', match["labels"])[1]
            counters["buckets"][bound] = counters["buckets"].get(bound, 0) + int(value)
    return counters


def _remove_orphans() -> int:
    """Containers and networks of this site's endpoints that no live replica or endpoint owns
    (a converge that died midway, an endpoint deleted while its host was away), and routes of
    endpoints that are gone."""
    removed = 0
    wanted_routes = {e.upstream_name for e in Endpoint.objects.live()}
    for name in route_names() - wanted_routes:
        route_remove_named(name=name)
        removed += 1
    live_replicas = {
        r.container_name for r in Replica.objects.filter(status__in=REPLICA_LIVE).select_related("endpoint")
    }
    live_endpoints = set(Endpoint.objects.live().values_list("pk", flat=True))
    busy = set(
        Replica.objects.filter(status__in=REPLICA_LIVE).values_list("endpoint_id", flat=True).distinct()
    )
    for host in Host.objects.filter(state=HostState.READY):
        try:
            driver = driver_for_host(host, timeout=10)
            containers = driver.list_managed()
            networks = driver.list_managed_networks()
        except DriverError:
            continue
        for state in containers:
            if (
                serving_owns_name(state.name)
                and state.name not in live_replicas
                and _endpoint_of(state) not in busy
            ):
                driver.remove(name=state.name)
                removed += 1
        for network in networks:
            endpoint_id = _endpoint_id_from_network(network)
            if endpoint_id is not None and endpoint_id not in live_endpoints | busy:
                try:
                    driver.remove_network(name=network)
                    removed += 1
                except DriverError:
                    continue
    return removed


def _endpoint_of(state) -> int | None:
    value = state.labels.get(f"{LABEL_PREFIX}.endpoint", "")
    return int(value) if value.isdigit() else None


def _endpoint_id_from_network(name: str) -> int | None:
    match = re.fullmatch(rf"{settings.SITE}-ep(\d+)-net", name)
    return int(match[1]) if match else None
