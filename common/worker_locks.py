"""One worker at a time on a piece of work: a PostgreSQL session advisory lock, which the server
releases by itself when the worker holding it dies. Each app names its own namespaces (the first
key of the two-key lock): provisioning's 71_00x, catalog's 72_00x."""

import contextlib

from django.db import connection


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


def worker_lock_held(namespace: int, object_id: int) -> bool:
    """Whether some worker holds the lock now. Looked up in pg_locks, not tried: a try that won
    would hold the lock for a moment, and a worker starting then would skip its work."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2 AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database()))",
            [namespace, object_id],
        )
        return cursor.fetchone()[0]
