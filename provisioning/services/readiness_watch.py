"""The readiness watcher: one worker thread waits for the nodes of every bring-up at once.

A bring-up whose containers are started hands the wait over to it. It probes each waiting
node's services directly where the worker reaches them (cheap: a connection on this machine's
bridge), looks at the engine's view of each (one inspect: health, exit) at a calmer pace, and
calls operation_advance only for an operation that has something new to learn. So a burst of
launches costs one thread and no pile of countdown tasks, and a node is reported ready within
a few hundredths of a second of answering (the database is read at a calmer pace)."""

import logging
import time

from django.conf import settings
from django.utils import timezone

from common.async_work import Outcome
from provisioning.drivers import DriverError, driver_for_host
from provisioning.models import Node, Operation, OperationPhase
from provisioning.services import worker_locks
from provisioning.services.operations import operation_advance
from provisioning.services.readiness import node_answers
from provisioning.services.worker_locks import worker_lock
from provisioning.states import NodeStatus

log = logging.getLogger(__name__)

#: Between two probes of a waiting node's services. A launch waits on average half of it past
#: the moment its node answers; a probe of a node not listening yet is one refused connection.
PROBE_EVERY_S = 0.025
#: Between two reads of what waits (new bring-ups, their nodes' addresses): the database is
#: asked at this calmer pace, the nodes at the brisk one above.
REFRESH_EVERY_S = 0.25
#: Between two looks at the engine's view of a waiting node: its health where the node cannot
#: be probed, and whether it died (exit, OOM kill) in any case.
ENGINE_EVERY_S = 1.0
#: How long one task watches before handing its thread back and going on in a fresh task.
HOLD_S = 30.0
#: How often the watched operations are marked alive, so the reconciler does not resume them.
HEARTBEAT_S = 10.0


def operations_waiting():
    """Active bring-ups whose containers are started: what is left of them is readiness."""
    return Operation.objects.active().filter(phases__contains=[{"phase": OperationPhase.STARTED.value}])


def readiness_watch() -> Outcome:
    """Watch until nothing waits or HOLD_S passed. One watcher at a time (a session lock,
    released by the database if its worker dies); a second one returns at once, since the one
    running sees every waiting operation at each round."""
    with worker_lock(worker_locks.READINESS, 0) as acquired:
        if not acquired:
            return Outcome()
        _watch(deadline=time.monotonic() + HOLD_S)
    # Looked at after the lock is released: an operation that began to wait after the last
    # round, while a watcher it enqueued found the lock taken, is not left behind.
    return Outcome(again_in=0) if operations_waiting().exists() else Outcome()


def _watch(*, deadline: float) -> None:
    drivers = {}
    engine_looks: dict[int, float] = {}  # node id: when the engine was last asked about it
    heartbeat = time.monotonic()
    while time.monotonic() < deadline:
        waiting = {op.pk: op for op in operations_waiting()}
        if not waiting:
            return
        nodes = list(
            Node.objects.live()
            .filter(sandbox__operations__in=list(waiting))
            .exclude(status=NodeStatus.RUNNING)
            .select_related("host", "sandbox__catalog_item")
        )
        operation_of = {op.sandbox_id: op.pk for op in waiting.values()}
        # Timed out, or every node already known ready (its last look ended before it closed).
        news = {op.pk for op in waiting.values() if _timed_out(op)} | (
            set(waiting) - {operation_of[node.sandbox_id] for node in nodes}
        )
        refresh_at = time.monotonic() + REFRESH_EVERY_S
        while True:
            for node in nodes:
                if operation_of[node.sandbox_id] not in news and _news_of(node, drivers, engine_looks):
                    news.add(operation_of[node.sandbox_id])
            if news or time.monotonic() >= refresh_at:
                break
            time.sleep(PROBE_EVERY_S)
        for operation_id in news:
            operation_advance(operation_id=operation_id)
        if time.monotonic() - heartbeat > HEARTBEAT_S:
            Operation.objects.filter(pk__in=list(waiting)).exclude(pk__in=news).update(updated=timezone.now())
            heartbeat = time.monotonic()
        time.sleep(PROBE_EVERY_S)


def _timed_out(operation: Operation) -> bool:
    return (timezone.now() - operation.started).total_seconds() > settings.NODE_READY_TIMEOUT_S


def _news_of(node: Node, drivers: dict, engine_looks: dict[int, float]) -> bool:
    """Whether the node's operation has something to learn: the node answers, or the engine
    says it is healthy, unhealthy or no longer running."""
    try:
        driver = drivers.get(node.host_id) or drivers.setdefault(node.host_id, driver_for_host(node.host))
        if node_answers(node=node, driver=driver):
            return True
        now = time.monotonic()
        if now - engine_looks.get(node.pk, 0) < ENGINE_EVERY_S:
            return False
        engine_looks[node.pk] = now
        state = driver.poll(name=node.container_name)
    except DriverError as exc:
        log.info("readiness of %s: %s", node, exc)
        return True  # the operation's own look explains it, or fails it
    return not state.running or state.health in ("healthy", "unhealthy")
