"""/metrics after a sandbox lifecycle on a fake engine: parsed with Prometheus's own text
parser, it carries the expected samples, and the Grafana dashboard uses only what it exports."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from catalog.models import Flavor
from portal.celery import app as celery_app
from provisioning.drivers import gpus
from provisioning.models import Operation
from provisioning.naming import sandbox_prefix
from provisioning.services.sandboxes import sandbox_resize, sandbox_start, sandbox_stop
from provisioning.tasks import reconcile
from provisioning.tests.doubles import FailingEngine, fake_engine_install
from provisioning.tests.lifecycle import create, run
from serving.models import Endpoint, EndpointTraffic

DASHBOARD = Path(settings.BASE_DIR) / "deploy" / "grafana" / "portal-dashboard.json"
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
QUEUE = "metrics-test-queue"
GPUS = [
    {"index": 0, "uuid": "GPU-aaaa", "model": "NVIDIA H100", "memory_mib": 81559},
    {"index": 1, "uuid": "GPU-bbbb", "model": "NVIDIA H100", "memory_mib": 81559},
    {"index": 2, "uuid": "GPU-cccc", "model": "NVIDIA H100", "memory_mib": 81559},
]


@pytest.fixture
def broker(monkeypatch):
    """The test run's Redis database, without this site's counters, and a queue of its own: the
    test run's Celery worker may be consuming the real one."""
    monkeypatch.setattr(celery_app.conf, "task_default_queue", QUEUE)
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [f"{settings.SITE}:reconciler:drift", f"{settings.SITE}:reconciler:runs", QUEUE]
    client.delete(*keys)
    yield client
    client.delete(*keys)
    client.close()


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name, **labels):
    matches = [v for found, v in samples.get(name, []) if all(found.get(k) == w for k, w in labels.items())]
    assert len(matches) == 1, f"{name}{labels}: {samples.get(name)}"
    return matches[0]


@pytest.fixture
def lifecycle(member, tenant, cluster_item, engine, fake_host, broker, monkeypatch):
    """One GPU sandbox created (3 nodes), stopped, started and shrunk to 2 nodes; one create that failed; a
    reconcile that removed an orphan; two tasks waiting in the queue."""
    fake_host.gpus = GPUS
    fake_host.save()
    tenant.quota_gpus = 4
    tenant.save()
    readings = [
        {
            "index": 0,
            "uuid": "GPU-aaaa",
            "utilization_percent": 42,
            "memory_used_bytes": 2**30,
            "memory_total_bytes": 81559 * 2**20,
        },
        {
            "index": 7,
            "uuid": "GPU-not-in-any-inventory",
            "utilization_percent": 99,
            "memory_used_bytes": 1,
            "memory_total_bytes": 2,
        },
    ]
    monkeypatch.setattr(gpus, "gpu_readings", lambda: readings)
    with freeze_time(T0) as clock:
        sandbox, operation = create(member, tenant, nodes={"worker": 2}, gpus_per_node=1)
        clock.tick(timedelta(seconds=25))
        run(operation)
        for change in (sandbox_stop, sandbox_start):
            operation = change(sandbox=sandbox, actor=member)
            clock.tick(timedelta(seconds=3))
            run(operation)
        run(sandbox_resize(sandbox=sandbox, actor=member, nodes={"worker": 1}))
        fake_engine_install(fake_host.url, FailingEngine(name=fake_host.name, message="image not found"))
        _broken, operation = create(member, tenant, name="broken", nodes={"worker": 1})
        clock.tick(timedelta(seconds=90))
        run(operation)
        fake_engine_install(fake_host.url, engine)
    engine.networks.add(f"{sandbox_prefix(999)}-net")
    reconcile()
    broker.rpush(QUEUE, "task-1", "task-2")
    return sandbox


def test_metrics_after_a_lifecycle(client, lifecycle, tenant, fake_host):
    samples = scrape(client)

    assert value(samples, "portal_sandboxes", tenant="acme", status="running") == 1
    assert value(samples, "portal_sandboxes", tenant="acme", status="error") == 1
    assert value(samples, "portal_nodes", host="fake-1", status="running") == 2
    assert value(samples, "portal_host_state", host="fake-1", state="ready") == 1
    assert value(samples, "portal_host_cpus", host="fake-1") == 4
    assert value(samples, "portal_host_cpus_allocatable", host="fake-1") == 16  # 4 cores x overcommit 4
    assert value(samples, "portal_host_cpus_allocated", host="fake-1") == 2
    assert value(samples, "portal_host_memory_bytes", host="fake-1") == 65536 * 2**20
    assert value(samples, "portal_host_memory_allocated_bytes", host="fake-1") == 4096 * 2**20
    assert value(samples, "portal_host_gpus", host="fake-1") == 3
    assert value(samples, "portal_host_gpus_allocated", host="fake-1") == 2
    used = {
        labels["resource"]: v
        for labels, v in samples["portal_tenant_quota_used"]
        if labels["tenant"] == "acme"
    }
    assert used == {"cpus": 2, "memory_mib": 4096, "gpus": 2, "storage_gib": 10, "sandboxes": 1}
    assert value(samples, "portal_tenant_quota_limit", tenant="acme", resource="gpus") == 4

    # The histograms mirror the operations' own timestamps: each one lands in the buckets its
    # recorded duration falls in, and the sums add those durations up.
    for outcome in ("succeeded", "failed"):
        labels = {"kind": "create", "outcome": outcome}
        (operation,) = Operation.objects.filter(kind="create", status=outcome)
        took = (operation.finished - operation.created).total_seconds()
        assert value(samples, "portal_operation_duration_seconds_count", **labels) == 1
        assert value(samples, "portal_operation_duration_seconds_sum", **labels) == took
        buckets = [
            (found["le"], count)
            for found, count in samples["portal_operation_duration_seconds_bucket"]
            if all(found.get(k) == w for k, w in labels.items())
        ]
        assert buckets and all(count == (took <= float(le)) for le, count in buckets)
    assert value(samples, "portal_operation_duration_seconds_count", kind="stop", outcome="succeeded") == 1
    assert value(samples, "portal_operation_queue_seconds_count", kind="resize", outcome="succeeded") == 1
    assert "portal_operations_active" not in samples  # nothing in flight

    assert value(samples, "portal_redis_up") == 1
    assert value(samples, "portal_celery_queue_length", queue=QUEUE) == 2
    assert value(samples, "portal_reconciler_drift_total", host="fake-1", kind="orphans_removed") == 1
    assert value(samples, "portal_reconciler_drift_total", host="fake-1", kind="restarted") == 0
    assert value(samples, "portal_reconciler_runs_total") == 1
    assert value(samples, "portal_reconciler_last_run_timestamp_seconds") > T0.timestamp()

    gpu = {"host": "fake-1", "gpu": "0", "uuid": "GPU-aaaa", "model": "NVIDIA H100"}
    assert value(samples, "portal_gpu_utilization_ratio", **gpu) == 0.42
    assert value(samples, "portal_gpu_memory_used_bytes", **gpu) == 2**30
    assert len(samples["portal_gpu_utilization_ratio"]) == 1  # a GPU of no host is not reported


def test_reconciler_counters_add_up_across_runs(client, lifecycle, engine):
    engine.networks.add(f"{sandbox_prefix(998)}-net")
    reconcile()
    reconcile()

    samples = scrape(client)
    assert value(samples, "portal_reconciler_drift_total", host="fake-1", kind="orphans_removed") == 2
    assert value(samples, "portal_reconciler_runs_total") == 3


def test_without_gpus_nothing_is_asked_of_nvml(client, fake_host, broker, monkeypatch):
    def refuse():
        raise AssertionError("NVML was asked although no host has a GPU")

    monkeypatch.setattr(gpus, "gpu_readings", refuse)

    samples = scrape(client)

    assert not [name for name in samples if name.startswith("portal_gpu_")]
    assert value(samples, "portal_host_gpus", host="fake-1") == 0


def test_gpus_in_an_inventory_without_an_nvidia_driver_report_nothing(client, fake_host, broker):
    fake_host.gpus = GPUS
    fake_host.save()

    samples = scrape(client)

    if gpus.gpu_readings():
        pytest.skip("this machine has NVIDIA GPUs")
    assert not [name for name in samples if name.startswith("portal_gpu_")]


def test_redis_down_is_reported_not_raised(client, fake_host, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    samples = scrape(client)

    assert value(samples, "portal_redis_up") == 0
    assert "portal_celery_queue_length" not in samples
    assert value(samples, "portal_host_cpus", host="fake-1") == 4


def dashboard_metric_names() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = []

    def walk(panels):
        for panel in panels:
            exprs.extend(target["expr"] for target in panel.get("targets", []))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    assert exprs
    names = set()
    for expr in exprs:
        # Label matchers, ranges and grouping labels are not metric names; functions are
        # followed by a parenthesis.
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without)\s*\([^)]*\)", " ", expr)
        names.update(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", bare))
    return names - {"or", "and", "unless", "bool", "on", "ignoring", "offset"}


def test_the_dashboard_uses_only_exported_metrics_and_every_family(client, lifecycle, member, tenant):
    create(member, tenant, name="waiting")  # an operation in flight, for portal_operations_active
    # A served model, for the endpoint panels (serving/).
    flavor = Flavor.objects.create(name="serve", cpus=1, memory_mib=512, gpus=0, disk_gib=1)
    endpoint = Endpoint.objects.create(
        tenant=tenant, owner=member, name="line", model_name="line", model_version="1", flavor=flavor
    )
    EndpointTraffic.objects.create(endpoint=endpoint, requests=3, latency_sum_s=0.01, buckets={"0.005": 2})
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all({"gridPos", "datasource", "targets"} <= set(p) for p in panels)
    samples = scrape(client)
    used = dashboard_metric_names()

    assert used, "no metric found in the dashboard's queries"
    assert all(name.startswith("portal_") for name in used), used
    assert used - set(samples) == set()
    families = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in samples}
    used_families = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in used}
    assert families - used_families == set()
