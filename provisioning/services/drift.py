"""Cumulative counts of what the reconciler found and fixed, kept in Redis so that every worker
adds to the same counters and /metrics (in any web process) reads them back.

Drift kinds are those of `host_reconcile`: restarted, stopped, orphans_removed and recovered are
fixes; unknown counts nodes found on a host that does not answer (nothing to fix from here)."""

import logging
import time

import redis
from django.conf import settings

log = logging.getLogger(__name__)

#: Redis timeouts: metrics must never hold up a reconcile run or a scrape for long.
TIMEOUT_S = 2


def _keys() -> tuple[str, str]:
    prefix = f"{settings.SITE}:reconciler"
    return f"{prefix}:drift", f"{prefix}:runs"


def _client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S, decode_responses=True
    )


def drift_record(*, report: dict) -> None:
    """Add one reconcile_all() report to the counters. Zeros are added too, so that every host
    and kind has a series from its first run and rate() sees the first increment."""
    drift_key, runs_key = _keys()
    client = _client()
    try:
        pipe = client.pipeline()
        for host, drift in report.get("hosts", {}).items():
            for kind, count in drift.items():
                pipe.hincrby(drift_key, f"{host}\t{kind}", count)
        pipe.hincrby(runs_key, "runs", 1)
        pipe.hincrby(runs_key, "operations_resumed", report.get("resumed", 0))
        pipe.hset(runs_key, "last_run", repr(time.time()))
        pipe.execute()
    except redis.RedisError as exc:
        # The reconcile itself is done; losing one run's counts is better than failing it.
        log.warning("could not record reconciler drift in Redis: %s", exc)
    finally:
        client.close()


def drift_totals() -> dict:
    """{"drift": {(host, kind): count}, "runs": n, "operations_resumed": n, "last_run": epoch s}"""
    drift_key, runs_key = _keys()
    client = _client()
    try:
        drift = client.hgetall(drift_key)
        runs = client.hgetall(runs_key)
    finally:
        client.close()
    return {
        "drift": {tuple(field.split("\t", 1)): int(count) for field, count in drift.items()},
        "runs": int(runs.get("runs", 0)),
        "operations_resumed": int(runs.get("operations_resumed", 0)),
        "last_run": float(runs["last_run"]) if "last_run" in runs else None,
    }
