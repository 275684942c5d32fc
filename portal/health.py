"""/healthz: one entry per dependency, each checked for real with a short timeout."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from portal.celery import app as celery_app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    timeout = settings.HEALTH_CHECK_TIMEOUT_S
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_celery() -> None:
    timeout = settings.HEALTH_CHECK_TIMEOUT_S
    with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        # Fail fast when the broker is down instead of retrying for minutes.
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        replies = celery_app.control.ping(timeout=timeout, connection=conn)
    if not replies:
        raise RuntimeError(f"no Celery worker answered a ping within {timeout:g}s")


def host_checks() -> dict[str, Callable[[], None]]:
    from provisioning.drivers import driver_for_host
    from provisioning.models import Host

    def check(host):
        return lambda: driver_for_host(host, timeout=settings.HEALTH_CHECK_TIMEOUT_S).ping()

    return {f"docker:{host.name}": check(host) for host in Host.objects.exclude(state=Host.State.DISABLED)}


def run_checks() -> dict[str, dict]:
    checks = {"database": check_database, "redis": check_redis, "celery": check_celery, **host_checks()}

    def outcome(check):
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
            return {"status": "error", "reason": str(exc) or type(exc).__name__}
        finally:
            connection.close()  # threads each opened their own database connection
        return {"status": "ok"}

    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = dict(zip(checks, pool.map(outcome, checks.values()), strict=False))
    return results


def healthz(request):
    results = run_checks()
    healthy = all(entry["status"] == "ok" for entry in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )
