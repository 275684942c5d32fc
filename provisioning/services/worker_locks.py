"""One worker at a time on a sandbox's operations, on a job, or watching readiness: a
PostgreSQL session advisory lock (common.worker_locks), which the server releases by itself when
the worker holding it dies."""

from common.worker_locks import worker_lock

__all__ = ["JOB", "POOL", "READINESS", "SANDBOX", "worker_lock"]

#: Lock namespaces: the first key of the two-key advisory lock.
SANDBOX = 71_001
JOB = 71_002
#: The readiness watcher: one at a time, for every waiting operation (the second key is 0).
READINESS = 71_003
#: The warm pool's pass over one host (the second key is the host's id).
POOL = 71_005
