"""Issue 20's serving benchmark (not a test): requests per second and p50/p99 latency through an
endpoint's URL (nginx gateway: the portal's key check, kept 5 s, then the upstream group) against
calling the same replica directly, same load, same run. Goal: the gateway adds at most 10 % at
p50. One replica, so that both sides reach the same model server; the rounds alternate which side
goes first. Prints the table and writes var/bench/endpoint_proxy.json.

    PORTAL_TEST_DB_NAME=... PORTAL_TEST_REDIS_URL=... PORTAL_TEST_SITE=... \\
        .venv/bin/pytest bench/test_endpoint_proxy.py -s -q
"""

import http.client
import json
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.report import machine
from serving.models import Replica
from tests.serving.conftest import (  # noqa: F401 - fixtures
    docker_client,
    gateway,
    model_server_published,
    model_store,
    no_replica_left,
    run_dir,
    serving_settings,
    serving_worker,
    teams,
)
from tests.serving.test_endpoints_docker import settled

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "endpoint_proxy.json"
CLIENTS = 4
REQUESTS_PER_CLIENT = 250
ROUNDS = 3
BODY = json.dumps({"inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP64", "data": [3.0]}]})


def run_load(base: str, headers: dict) -> dict:
    """CLIENTS keep-alive connections, each sending REQUESTS_PER_CLIENT requests in a row."""
    parts = urlsplit(base)
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        for _ in range(REQUESTS_PER_CLIENT):
            started = time.perf_counter()
            connection.request("POST", f"{parts.path}v2/models/line/infer", body=BODY, headers=headers)
            answer = connection.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                failures.append(answer.status)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "failures": len(failures),
    }


def test_endpoint_proxy_overhead(teams, gateway, serving_worker):  # noqa: F811
    _lab, _other, clients = teams
    client = clients["lab"]
    created = client.post(
        "/api/v1/endpoints/",
        {
            "tenant": "lab",
            "name": "line",
            "model": {"name": "line", "version": "1"},
            "replicas": {"min": 1, "max": 1},
            "flavor": "serve",
        },
        format="json",
    ).json()
    body = settled(client, created["id"], version="1")
    key = client.post(f"/api/v1/endpoints/{created['id']}/keys/", {"name": "bench"}, format="json").json()[
        "key"
    ]
    replica = Replica.objects.get(endpoint_id=created["id"], status="ready")
    sides = {
        "through the endpoint URL": (
            body["url"],
            {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ),
        "one replica directly": (f"http://{replica.ip}:8080/", {"Content-Type": "application/json"}),
    }
    for base, headers in sides.values():  # warm both paths (connections, the key check's cache)
        run_load(base, headers)
    rounds = {name: [] for name in sides}
    for i in range(ROUNDS):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            rounds[name].append(run_load(*sides[name]))
    summary = {
        name: {
            k: statistics.median(r[k] for r in runs)
            for k in ("requests_per_s", "p50_ms", "p99_ms", "failures")
        }
        for name, runs in rounds.items()
    }
    proxied, direct = summary["through the endpoint URL"], summary["one replica directly"]
    overhead = proxied["p50_ms"] / direct["p50_ms"] - 1
    lines = [
        f"{CLIENTS} clients x {REQUESTS_PER_CLIENT} requests, median of {ROUNDS} rounds",
        "| path | requests/s | p50 ms | p99 ms | failures |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {s['requests_per_s']:.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
            f"| {s['failures']:.0f} |"
            for name, s in summary.items()
        ),
        f"gateway overhead at p50: {100 * overhead:+.1f} % (goal <= 10 %)",
    ]
    print("\n" + "\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": machine(), "summary": summary, "rounds": rounds, "overhead_p50": overhead}, indent=2
        )
    )
    assert proxied["failures"] == 0 and direct["failures"] == 0
    client.delete(f"/api/v1/endpoints/{created['id']}/")
