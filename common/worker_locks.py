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
