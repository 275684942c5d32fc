"""One worker at a time on a sandbox's operations, on a job, or watching readiness: a
PostgreSQL session advisory lock, which the server releases by itself when the worker holding
it dies."""

import contextlib

from django.db import connection

#: Lock namespaces: the first key of the two-key advisory lock.
SANDBOX = 71_001
JOB = 71_002
#: The readiness watcher: one at a time, for every waiting operation (the second key is 0).
READINESS = 71_003
#: The warm pool's pass over one host (the second key is the host's id).
POOL = 71_005


@contextlib.contextmanager
def worker_lock(namespace: int, object_id: int):
    """Yields whether this worker got the lock; never waits for it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, object_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, object_id])
