"""/healthz: one entry per dependency, each checked for real, all at once, within a short budget.

Load balancers probe this often and give up after a second or so: every check runs in its own
thread, and the answer leaves when all have answered or the budget is spent, whichever comes
first. A check still running then is reported as not answering (truthfully: it did not answer in
time) and finishes in the background within its own timeout."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

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
        # The first reply is enough to know a worker serves: without a limit, ping waits out
        # its whole timeout collecting replies.
        replies = celery_app.control.ping(timeout=timeout, connection=conn, limit=1)
    if not replies:
        raise RuntimeError(f"no Celery worker answered a ping within {timeout:g}s")


def host_checks() -> dict[str, Callable[[], None]]:
    from provisioning.drivers import driver_for_host
    from provisioning.models import Host

    def check(host):
        return lambda: driver_for_host(host, timeout=settings.HEALTH_CHECK_TIMEOUT_S).ping()

    hosts = Host.objects.exclude(state__in=[Host.State.DISABLED, Host.State.PENDING])
    return {f"docker:{host.name}": check(host) for host in hosts}


def _outcome(check: Callable[[], None]) -> dict:
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        return {"status": "error", "reason": str(exc) or type(exc).__name__}
    finally:
        connection.close()  # threads each opened their own database connection
    return {"status": "ok"}


def run_checks() -> dict[str, dict]:
    checks = {"database": check_database, "redis": check_redis, "celery": check_celery, **host_checks()}
    budget = settings.HEALTH_CHECK_BUDGET_S
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="healthz")
    futures = {name: pool.submit(_outcome, check) for name, check in checks.items()}
    wait(futures.values(), timeout=budget)
    # Not waiting for the stragglers: each ends within HEALTH_CHECK_TIMEOUT_S on its own.
    pool.shutdown(wait=False)
    late = {"status": "error", "reason": f"no answer within {budget:g}s"}
    return {name: future.result() if future.done() else late for name, future in futures.items()}


def healthz(request):
    results = run_checks()
    healthy = all(entry["status"] == "ok" for entry in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503
    )
