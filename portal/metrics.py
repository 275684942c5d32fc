"""/metrics: the platform's state in the Prometheus text format.

Every value is read at scrape time from the database, the broker and NVML by one custom
collector, not kept in process memory: gunicorn runs several web processes and the work happens
in Celery workers, so in-process counters would each see a fraction of it. Counters that only a
worker sees (the reconciler's drift) are kept in Redis by provisioning.services.drift.

Open to loopback clients (as seen through trusted proxies, see common.client_ip.client_ip)
and to `Authorization: Bearer <PORTAL_METRICS_TOKEN>`.
"""

import hmac
import ipaddress
import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from common.client_ip import client_ip
from portal.celery import app as celery_app
from provisioning.drivers import gpus
from provisioning.models import Host, Node, Operation, Sandbox
from provisioning.pool_selectors import pool_list
from provisioning.selectors import host_utilisation_list
from provisioning.services.drift import drift_totals
from provisioning.states import SandboxStatus
from serving.models import Endpoint, EndpointTraffic
from serving.selectors import endpoint_drift
from serving.states import ENDPOINT_LIVE
from tenants.models import Allocation, AuditEvent, Tenant
from tenants.resources import DIMENSIONS
from tenants.selectors.usage import tenant_quota, tenant_usage

log = logging.getLogger(__name__)

#: Upper bounds (seconds) of the operation histograms: a start takes seconds, a create of an
#: image not yet on the host minutes.
OPERATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
MIB = 1024 * 1024
#: Upper bounds (seconds) of the queue wait histogram: from a class's burst to a day's wait.
QUEUE_BUCKETS = (1, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)


class PortalCollector(Collector):
    def describe(self):
        # Nothing to describe up front: registering must not query the database.
        return []

    def collect(self):
        yield from sandbox_metrics()
        yield from node_metrics()
        yield from host_metrics()
        yield from quota_metrics()
        yield from operation_metrics()
        yield from queue_metrics()
        yield from pool_metrics()
        yield from broker_metrics()
        yield from gpu_metrics()
        yield from endpoint_metrics()


def pool_metrics():
    """The warm pool: its size per host, its pooled nodes per host and status, and the launches
    it served (hits) and those of its item and flavor that started cold, by reason (misses)."""
    size = GaugeMetricFamily(
        "portal_pool_size", "Ready nodes each host is to keep", labels=["catalog_item", "flavor"]
    )
    nodes = GaugeMetricFamily(
        "portal_pool_nodes",
        "Pooled nodes by host and status (starting, ready, lost)",
        labels=["catalog_item", "flavor", "host", "status"],
    )
    hits = CounterMetricFamily(
        "portal_pool_hits", "Launches that claimed a pooled node", labels=["catalog_item", "flavor"]
    )
    misses = CounterMetricFamily(
        "portal_pool_misses",
        "Launches of a pooled item and flavor that started cold, by reason (none_ready: no pooled "
        "node ready on a host they may use; tracking: their tenant's nodes get tracking at creation)",
        labels=["catalog_item", "flavor", "reason"],
    )
    for view in pool_list():
        key = [view.setting.catalog_item.slug, view.setting.flavor.name]
        size.add_metric(key, view.setting.size)
        hits.add_metric(key, view.setting.hits)
        for reason, count in sorted(view.setting.miss_reasons.items()):
            misses.add_metric([*key, reason], count)
        for host, counts in view.hosts.items():
            for status, count in counts.items():
                nodes.add_metric([*key, host, status], count)
    yield from (size, nodes, hits, misses)


def sandbox_metrics():
    family = GaugeMetricFamily(
        "portal_sandboxes",
        "Sandboxes by tenant and status (deleted ones left out)",
        labels=["tenant", "status"],
    )
    rows = Sandbox.objects.live().order_by().values("tenant__slug", "status").annotate(count=Count("pk"))
    for row in rows:
        family.add_metric([row["tenant__slug"], row["status"]], row["count"])
    yield family


def node_metrics():
    family = GaugeMetricFamily(
        "portal_nodes",
        "Nodes (containers) by host and status (deleted ones left out)",
        labels=["host", "status"],
    )
    rows = Node.objects.live().order_by().values("host__name", "status").annotate(count=Count("pk"))
    for row in rows:
        family.add_metric([row["host__name"] or "", row["status"]], row["count"])
    yield family


def host_metrics():
    def gauge(name, documentation):
        return GaugeMetricFamily(name, documentation, labels=["host"])

    state = GaugeMetricFamily("portal_host_state", "1 for the host's current state", labels=["host", "state"])
    cpus = gauge("portal_host_cpus", "CPU cores of the host")
    cpus_allocatable = gauge("portal_host_cpus_allocatable", "Cores nodes may hold: cores x CPU overcommit")
    cpus_allocated = gauge("portal_host_cpus_allocated", "Cores held by the host's nodes")
    memory = gauge("portal_host_memory_bytes", "Memory of the host")
    memory_allocated = gauge("portal_host_memory_allocated_bytes", "Memory held by the host's nodes")
    gpus_total = gauge("portal_host_gpus", "GPUs of the host")
    gpus_allocated = gauge("portal_host_gpus_allocated", "GPUs held by the host's nodes")
    for line in host_utilisation_list():
        name = [line.host.name]
        state.add_metric([line.host.name, line.host.state], 1)
        cpus.add_metric(name, line.host.cpus)
        cpus_allocatable.add_metric(name, float(line.cpus_allocatable))
        cpus_allocated.add_metric(name, float(line.cpus_allocated))
        memory.add_metric(name, line.host.memory_mib * MIB)
        memory_allocated.add_metric(name, line.memory_mib_allocated * MIB)
        gpus_total.add_metric(name, line.gpus_total)
        gpus_allocated.add_metric(name, line.gpus_allocated)
    yield from (
        state,
        cpus,
        cpus_allocatable,
        cpus_allocated,
        memory,
        memory_allocated,
        gpus_total,
        gpus_allocated,
    )


def quota_metrics():
    labels = ["tenant", "resource"]
    limit = GaugeMetricFamily("portal_tenant_quota_limit", "Quota of the tenant per resource", labels=labels)
    used = GaugeMetricFamily(
        "portal_tenant_quota_used", "What the tenant's live sandboxes hold per resource", labels=labels
    )
    # Resource names and units are the quota's: cpus (cores), memory_mib, gpus, storage_gib, sandboxes.
    for tenant in Tenant.objects.order_by("slug"):
        quota, usage = tenant_quota(tenant=tenant), tenant_usage(tenant=tenant)
        for resource in DIMENSIONS:
            limit.add_metric([tenant.slug, resource], float(getattr(quota, resource)))
            used.add_metric([tenant.slug, resource], float(getattr(usage, resource)))
    yield from (limit, used)


def queue_metrics():
    """The launch queue: its length per tenant, how long launches waited in it (each queued
    interval in the ledger that has ended: admitted, cancelled or expired), admissions and
    preemptions (their audit events)."""
    # Every tenant, 0 when nothing of it waits: a series that vanishes would read as unknown.
    length = GaugeMetricFamily("portal_queue_length", "Launches waiting in the queue", labels=["tenant"])
    rows = Tenant.objects.annotate(
        queued=Count("sandboxes", filter=Q(sandboxes__status=SandboxStatus.QUEUED))
    )
    for slug, queued in rows.order_by("slug").values_list("slug", "queued"):
        length.add_metric([slug], queued)
    waited = (
        Allocation.objects.filter(attributes__has_key="queued", ended__isnull=False, sandboxes__gt=0)
        .annotate(wait=ExpressionWrapper(F("ended") - F("started"), output_field=DurationField()))
        .order_by()
    )
    buckets = {
        f"b{i}": Count("pk", filter=Q(wait__lte=timedelta(seconds=b))) for i, b in enumerate(QUEUE_BUCKETS)
    }
    totals = waited.aggregate(count=Count("pk"), total=Sum("wait"), **buckets)
    wait = HistogramMetricFamily("portal_queue_wait_seconds", "Time launches spent in the queue")
    wait.add_metric(
        [],
        buckets=[(str(b), totals[f"b{i}"]) for i, b in enumerate(QUEUE_BUCKETS)]
        + [("+Inf", totals["count"])],
        sum_value=totals["total"].total_seconds() if totals["total"] else 0.0,
    )
    events = dict(
        AuditEvent.objects.filter(action__in=["sandbox.admit", "sandbox.preempt"])
        .order_by()
        .values_list("action")
        .annotate(count=Count("pk"))
    )
    admissions = CounterMetricFamily("portal_queue_admissions", "Queued launches admitted to a host")
    admissions.add_metric([], events.get("sandbox.admit", 0))
    preemptions = CounterMetricFamily(
        "portal_queue_preemptions", "Preemptible sandboxes stopped to make room"
    )
    preemptions.add_metric([], events.get("sandbox.preempt", 0))
    yield from (length, wait, admissions, preemptions)


def operation_metrics():
    """Finished operations as histograms of their duration (created to finished: what the user
    waits) and of their time in the queue (created to started), by kind and outcome."""
    labels = ["kind", "outcome"]
    duration = HistogramMetricFamily(
        "portal_operation_duration_seconds", "Operations from request to end", labels=labels
    )
    wait = HistogramMetricFamily(
        "portal_operation_queue_seconds", "Operations from request until a worker took them", labels=labels
    )
    finished = (
        Operation.objects.finished()
        .filter(finished__isnull=False)
        .annotate(
            duration=ExpressionWrapper(F("finished") - F("created"), output_field=DurationField()),
            wait=ExpressionWrapper(
                Coalesce(F("started"), F("finished")) - F("created"), output_field=DurationField()
            ),
        )
        .order_by()
        .values("kind", "status")
    )
    buckets = {}
    for i, bound in enumerate(OPERATION_BUCKETS):
        limit = timedelta(seconds=bound)
        buckets[f"d{i}"] = Count("pk", filter=Q(duration__lte=limit))
        buckets[f"w{i}"] = Count("pk", filter=Q(wait__lte=limit))
    for row in finished.annotate(count=Count("pk"), d_sum=Sum("duration"), w_sum=Sum("wait"), **buckets):
        for family, prefix in ((duration, "d"), (wait, "w")):
            family.add_metric(
                [row["kind"], row["status"]],
                buckets=[(str(b), row[f"{prefix}{i}"]) for i, b in enumerate(OPERATION_BUCKETS)]
                + [("+Inf", row["count"])],
                sum_value=row[f"{prefix}_sum"].total_seconds(),
            )
    active = GaugeMetricFamily(
        "portal_operations_active", "Operations waiting for or held by a worker", labels=["kind", "status"]
    )
    rows = Operation.objects.active().order_by().values("kind", "status").annotate(count=Count("pk"))
    for row in rows:
        active.add_metric([row["kind"], row["status"]], row["count"])
    yield from (duration, wait, active)


def endpoint_metrics():
    """Each live endpoint's requests, errors and latency, as its replicas counted them (summed by
    the serving reconciler, so a replica that restarts loses nothing), its replicas, and how many
    of its features drifted."""
    labels = ["tenant", "endpoint"]
    requests = CounterMetricFamily("portal_endpoint_requests", "Inference requests served", labels=labels)
    errors = CounterMetricFamily(
        "portal_endpoint_errors", "Inference requests answered 4xx/5xx", labels=labels
    )
    latency = HistogramMetricFamily(
        "portal_endpoint_latency_seconds", "Inference request latency in the replicas", labels=labels
    )
    replicas = GaugeMetricFamily("portal_endpoint_replicas", "Replicas wanted by the scaler", labels=labels)
    rows = EndpointTraffic.objects.filter(endpoint__status__in=ENDPOINT_LIVE).select_related(
        "endpoint__tenant"
    )
    for row in rows:
        key = [row.endpoint.tenant.slug, row.endpoint.name]
        requests.add_metric(key, row.requests)
        errors.add_metric(key, row.errors)
        bounds = sorted((b for b in row.buckets if b != "+Inf"), key=float)
        latency.add_metric(
            key,
            buckets=[(b, row.buckets[b]) for b in bounds] + [("+Inf", row.buckets.get("+Inf", row.requests))],
            sum_value=row.latency_sum_s,
        )
        replicas.add_metric(key, row.endpoint.desired_replicas)
    drifted = GaugeMetricFamily(
        "portal_endpoint_drift_features",
        "Features whose recent inference inputs' mean is past the drift threshold from the training data's",
        labels=labels,
    )
    watched = Endpoint.objects.filter(status__in=ENDPOINT_LIVE, input_stats__isnull=False).select_related(
        "tenant", "input_stats"
    )
    for endpoint in watched:
        drifted.add_metric(
            [endpoint.tenant.slug, endpoint.name], endpoint_drift(endpoint=endpoint).drifted_count
        )
    yield from (requests, errors, latency, replicas, drifted)


def broker_metrics():
    """The Celery queues' lengths and the reconciler's counters, both in Redis. Redis down is
    itself reported (portal_redis_up 0) rather than failing the whole scrape."""
    up = GaugeMetricFamily("portal_redis_up", "1 when the broker and counter store answered")
    declared = (q.name for q in celery_app.conf.task_queues or ())
    queues = sorted({celery_app.conf.task_default_queue, *declared})
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        lengths = {queue: client.llen(queue) for queue in queues}
        totals = drift_totals()
    except redis.RedisError as exc:
        log.warning("metrics: Redis did not answer: %s", exc)
        up.add_metric([], 0)
        yield up
        return
    finally:
        client.close()
    up.add_metric([], 1)
    yield up
    queue_length = GaugeMetricFamily(
        "portal_celery_queue_length", "Tasks waiting in the broker for a worker", labels=["queue"]
    )
    for queue, length in lengths.items():
        queue_length.add_metric([queue], length)
    yield queue_length
    drift = CounterMetricFamily(
        "portal_reconciler_drift",
        "What the reconciler found and fixed: restarted, stopped, orphans_removed and recovered are "
        "fixes; unknown counts nodes found on a host that did not answer",
        labels=["host", "kind"],
    )
    for (host, kind), count in sorted(totals["drift"].items()):
        drift.add_metric([host, kind], count)
    yield drift
    yield CounterMetricFamily("portal_reconciler_runs", "Reconciler runs", value=totals["runs"])
    yield CounterMetricFamily(
        "portal_reconciler_operations_resumed",
        "Operations whose worker died, handed to a worker again",
        value=totals["operations_resumed"],
    )
    if totals["last_run"] is not None:
        yield GaugeMetricFamily(
            "portal_reconciler_last_run_timestamp_seconds",
            "When the reconciler last ran",
            value=totals["last_run"],
        )


def gpu_metrics():
    """Utilisation and memory of every GPU of the hosts' inventories that NVML on this machine
    sees. Without GPUs in any inventory NVML is not even asked, and nothing is reported."""
    inventory = {
        gpu["uuid"]: (host.name, gpu)
        for host in Host.objects.exclude(gpus=[]).only("name", "gpus")
        for gpu in host.gpus
    }
    if not inventory:
        return
    labels = ["host", "gpu", "uuid", "model"]
    utilization = GaugeMetricFamily(
        "portal_gpu_utilization_ratio",
        "Share of the last sample period a kernel ran on the GPU",
        labels=labels,
    )
    memory_used = GaugeMetricFamily("portal_gpu_memory_used_bytes", "GPU memory in use", labels=labels)
    memory_total = GaugeMetricFamily("portal_gpu_memory_total_bytes", "GPU memory", labels=labels)
    for reading in gpus.gpu_readings():
        if reading["uuid"] not in inventory:
            continue
        host, gpu = inventory[reading["uuid"]]
        names = [host, str(gpu.get("index", reading["index"])), reading["uuid"], gpu.get("model", "")]
        utilization.add_metric(names, reading["utilization_percent"] / 100)
        memory_used.add_metric(names, reading["memory_used_bytes"])
        memory_total.add_metric(names, reading["memory_total_bytes"])
    yield from (utilization, memory_used, memory_total)


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(PortalCollector())


def scrape_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip(), token):
        return True
    address = client_ip(request)
    return address is not None and ipaddress.ip_address(address).is_loopback


@require_GET
def metrics(request):
    if not scrape_allowed(request):
        return HttpResponse(
            "Metrics are served to loopback clients and to Authorization: Bearer <PORTAL_METRICS_TOKEN>.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
