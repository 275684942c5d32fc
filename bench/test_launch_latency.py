"""Benchmark: click to running. How long from the API call to every node healthy, for 1 and for 10
one-node sandboxes launched at once, against a raw `docker run` of the same image with the same
healthcheck, measured side by side in the same run. Run with `make bench`; results are printed
and written to var/bench/launch_latency.json. Not part of `make test`: it measures, it asserts
nothing about speed."""

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
from django.conf import settings

from catalog.models import CatalogItem
from provisioning.models import Sandbox
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "python-minimal"
CONCURRENCY = (1, 10)
ROUNDS = 3
SECOND_NS = 1_000_000_000
RESULTS = Path(settings.BASE_DIR) / "var" / "bench" / "launch_latency.json"


def _raw_docker_launch(client, image: str, healthcheck: dict, count: int, round_no: int) -> float:
    """The baseline: what a script calling `docker run -d` with the image's healthcheck gets."""
    names = [f"bench-raw-{round_no}-{i}" for i in range(count)]
    started = time.monotonic()

    def run(name):
        container = client.containers.run(
            image,
            name=name,
            detach=True,
            healthcheck={
                "test": list(healthcheck.test),
                "interval": int(healthcheck.interval_s * SECOND_NS),
                "timeout": int(healthcheck.timeout_s * SECOND_NS),
                "retries": healthcheck.retries,
                "start_period": int(healthcheck.start_period_s * SECOND_NS),
            },
        )
        while _health(client, container.id) != "healthy":
            time.sleep(0.1)

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(run, names))
        return time.monotonic() - started
    finally:
        for name in names:
            client.api.remove_container(name, force=True)


def _health(client, container_id: str) -> str:
    return client.api.inspect_container(container_id)["State"].get("Health", {}).get("Status", "")


def _portal_launch(api, count: int, round_no: int) -> float:
    started = time.monotonic()
    ids = []
    for i in range(count):
        response = api.post(
            "/api/v1/sandboxes/",
            {"tenant": "lab", "name": f"bench-{round_no}-{i}", "catalog_item": ITEM, "flavor": "small"},
            format="json",
        )
        assert response.status_code == 202, response.json()
        ids.append(response.json()["id"])
    # Polled as often as the baseline polls Docker, so neither side gains from the observer.
    pending = set(ids)
    while pending:
        pending -= set(Sandbox.objects.filter(pk__in=pending, status="running").values_list("pk", flat=True))
        assert not Sandbox.objects.filter(pk__in=pending, status="error").exists()
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    for sandbox_id in ids:
        api.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    for sandbox_id in ids:
        wait_for_status(api, sandbox_id, {"deleted"})
    return elapsed


def test_click_to_running_against_raw_docker_run(team, published, celery_worker_process, settings):
    # Ten 1-CPU sandboxes on a 2-core machine: allow them, as raw docker run does (no limit at all).
    settings.CPU_OVERCOMMIT = "8"
    tenant, _user, api = team
    tenant.quota_cpus, tenant.quota_memory_mib, tenant.quota_sandboxes = 64, 256 * 1024, 50
    tenant.quota_storage_gib = 1000
    tenant.save()
    published(ITEM)
    item = CatalogItem.objects.get(slug=ITEM)
    healthcheck = item.spec.head.healthcheck
    client = docker.from_env(version="1.41")
    client.images.get(item.image)  # both sides start from an image already on the host

    report = {"item": ITEM, "image": item.image, "rounds": ROUNDS, "results": []}
    for count in CONCURRENCY:
        raw, portal = [], []
        for round_no in range(ROUNDS):
            # Alternate which side goes first, so neither always finds a warmer engine.
            if round_no % 2:
                portal.append(_portal_launch(api, count, round_no))
                raw.append(_raw_docker_launch(client, item.image, healthcheck, count, round_no))
            else:
                raw.append(_raw_docker_launch(client, item.image, healthcheck, count, round_no))
                portal.append(_portal_launch(api, count, round_no))
        row = {
            "sandboxes": count,
            "raw_docker_run_s": round(statistics.median(raw), 2),
            "portal_s": round(statistics.median(portal), 2),
            "ratio_portal_to_raw": round(statistics.median(portal) / statistics.median(raw), 2),
            "raw_all_s": [round(x, 2) for x in raw],
            "portal_all_s": [round(x, 2) for x in portal],
        }
        report["results"].append(row)
        print(
            f"\n{count:>2} sandbox(es): raw docker run {row['raw_docker_run_s']}s, "
            f"portal API to running {row['portal_s']}s, ratio {row['ratio_portal_to_raw']}"
        )
    assert not Sandbox.objects.exclude(status="deleted").exists()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
