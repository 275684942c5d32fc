"""The worker's side of an endpoint: make its replicas what the database wants, one step at a
time, and keep the gateway's route in step.

One converge runs per endpoint at a time (a PostgreSQL advisory lock); each step re-reads the
rows, so running it twice, or after a worker died midway, finishes the same work. Rollouts go
replica by replica: a replica of the new version starts and must pass its readiness check (its
model loaded) before it joins the gateway's rotation and an old one leaves it; an old replica
leaves the rotation (nginx reloaded) and serves what it still holds before its container stops,
so callers never see a failure. A new version that does not become ready is rolled back."""

import logging
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.services.platform_images import platform_image_check
from catalog.states import PlatformImageState
from common.async_work import Outcome
from common.errors import ServiceError
from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import DriverError, HealthCheck, NodeSpec, driver_for_host
from serving.image_build import model_server_image, model_server_platform_image
from serving.model_source import model_source, model_source_connect, model_source_release
from serving.models import Endpoint, Replica
from serving.services.endpoints import replica_add, replica_forget
from serving.services.routes import route_remove, route_write
from serving.states import ENDPOINT_TRANSITIONS, REPLICA_LIVE, EndpointAction, EndpointStatus, ReplicaStatus
from tenants.resources import QuotaExceeded

log = logging.getLogger(__name__)

#: Advisory lock namespace of endpoint converges (provisioning's are 71_00x).
ENDPOINT_LOCK = 72_001
READY_POLL_S = 1.0
#: Processes one replica may run: MLServer and its model, no more.
PIDS_LIMIT = 512
#: How often a converge that waits for the model server's image being built looks again.
IMAGE_WAIT_S = 10


class _ImageBuilding(Exception):  # noqa: N818 - not an error: the converge goes on later
    """The model server's image is being built: replicas start once it is in the registry."""


def endpoint_converge(*, endpoint_id: int) -> Outcome:
    """Says when to look again: only while the model server's image is being built."""
    with _endpoint_lock(endpoint_id):
        endpoint = Endpoint.objects.select_related("tenant", "flavor", "owner").filter(pk=endpoint_id).first()
        if endpoint is None:  # a message that outlived its row: nothing to converge
            return Outcome()
        if endpoint.status == EndpointStatus.DELETED:
            _teardown(endpoint)
            return Outcome()
        if endpoint.status == EndpointStatus.PENDING:
            _set_status(endpoint, ENDPOINT_TRANSITIONS[EndpointAction.CREATE].through)
        _remove_dead(endpoint)
        try:
            while _step(endpoint):
                endpoint.refresh_from_db()
                if endpoint.status == EndpointStatus.DELETED:
                    _teardown(endpoint)
                    return Outcome()
        except _ImageBuilding as waiting:
            # A first deploy says so on the endpoint (its ready clears it); the waiting replica
            # says so in any case.
            Endpoint.objects.filter(pk=endpoint.pk, status=EndpointStatus.DEPLOYING).update(
                explanation=str(waiting), updated=timezone.now()
            )
            route_write(endpoint=endpoint)
            return Outcome(again_in=IMAGE_WAIT_S)
        route_write(endpoint=endpoint)
    return Outcome()


def _step(endpoint: Endpoint) -> bool:
    """Do one thing towards the wanted state; False when there is nothing left to do."""
    target = endpoint.model_version
    live = list(
        endpoint.replicas.filter(status__in=REPLICA_LIVE)
        .exclude(status=ReplicaStatus.DRAINING)
        .order_by("pk")
    )
    current = [r for r in live if r.model_version == target]
    old = [r for r in live if r.model_version != target]
    waiting = [r for r in current if r.status in (ReplicaStatus.PENDING, ReplicaStatus.STARTING)]
    ready = [r for r in current if r.status == ReplicaStatus.READY]
    wanted = endpoint.desired_replicas

    if waiting:
        replica = waiting[0]
        problem = _bring_up(endpoint, replica)
        if problem is None:
            route_write(endpoint=endpoint)
            if old:
                _retire(endpoint, old[0])
            return True
        _remove(endpoint, replica, drain=False, explanation=problem)
        serving_before = [r for r in old if r.status == ReplicaStatus.READY]
        if serving_before:
            previous = serving_before[0].model_version
            _rollback(endpoint, failed=target, previous=previous, problem=problem)
        else:
            for other in waiting[1:]:
                _remove(endpoint, other, drain=False)
            _finish(
                endpoint,
                EndpointStatus.ERROR,
                f"Version {target} of model {endpoint.model_name!r} did not become ready: {problem}",
            )
            return False
        return True
    if len(current) < wanted:
        try:
            with transaction.atomic():
                replica_add(
                    endpoint=Endpoint.objects.select_related("tenant", "flavor", "owner").get(pk=endpoint.pk)
                )
        except (QuotaExceeded, ServiceError) as exc:
            if old:
                # No room for one more: roll in place, one old replica out first.
                _retire(endpoint, old[0])
                return True
            _finish(endpoint, EndpointStatus.ERROR if not ready else EndpointStatus.READY, str(exc))
            return False
        return True
    if old:
        _retire(endpoint, old[0])
        return True
    if len(current) > wanted:
        _retire(endpoint, current[-1])
        return True
    if endpoint.status in (EndpointStatus.DEPLOYING, EndpointStatus.UPDATING, EndpointStatus.ERROR):
        _finish(
            endpoint,
            EndpointStatus.READY,
            endpoint.explanation if endpoint.status == EndpointStatus.UPDATING else "",
        )
    return False


def _rollback(endpoint: Endpoint, *, failed: str, previous: str, problem: str) -> None:
    explanation = (
        f"Version {failed} of model {endpoint.model_name!r} did not become ready ({problem}); "
        f"rolled back to version {previous}, which kept serving."
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(model_version=previous, explanation=explanation)
    endpoint.model_version, endpoint.explanation = previous, explanation
    log.warning("endpoint %s: %s", endpoint.pk, explanation)


def _bring_up(endpoint: Endpoint, replica: Replica) -> str | None:
    """Start the replica and wait for its model to answer; None when ready, else why not.
    Raises _ImageBuilding, the replica left pending, while the model server's image is built."""
    try:
        spec = replica_spec(endpoint, replica)
        driver = driver_for_host(replica.host)
        driver.ensure_network(name=endpoint.network_name, labels=_labels(endpoint))
        model_source_connect(endpoint=endpoint, host_id=replica.host_id)
        state = driver.start(spec)
    except ServiceError as exc:
        return str(exc)
    except DriverError as exc:
        image = platform_image_check(image=model_server_platform_image())
        if image.state == PlatformImageState.BUILDING:
            Replica.objects.filter(pk=replica.pk).update(explanation=image.explanation)
            raise _ImageBuilding(image.explanation) from exc
        return image.explanation or str(exc)
    Replica.objects.filter(pk=replica.pk).update(status=ReplicaStatus.STARTING, ip=state.ip, explanation="")
    deadline = time.monotonic() + settings.SERVING_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            state = driver.poll(name=replica.container_name)
        except DriverError as exc:
            return str(exc)
        if not state.running:
            return _last_words(driver, replica, state.exit_code)
        if state.ip and _answers(endpoint, state.ip, driver) or state.health == "healthy":
            Replica.objects.filter(pk=replica.pk).update(
                status=ReplicaStatus.READY, ip=state.ip, explanation=""
            )
            return None
        time.sleep(READY_POLL_S)
    return f"its model was not loaded within {settings.SERVING_READY_TIMEOUT_S} s"


def _answers(endpoint: Endpoint, ip: str, driver) -> bool:
    if not driver.reaches_node_addresses:
        return False
    url = f"http://{ip}:8080/v2/models/{endpoint.served_model_name}/ready"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - a replica's own address
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _last_words(driver, replica: Replica, exit_code) -> str:
    try:
        lines = [
            line for line in driver.logs(name=replica.container_name, tail=20).splitlines() if line.strip()
        ]
    except DriverError:
        lines = []
    reason = lines[-1].strip() if lines else "no output"
    return f"the model server exited ({exit_code}): {reason[:500]}"


def _retire(endpoint: Endpoint, replica: Replica) -> None:
    _remove(endpoint, replica, drain=replica.status == ReplicaStatus.READY)


def _remove(endpoint: Endpoint, replica: Replica, *, drain: bool, explanation: str = "") -> None:
    """Out of the rotation first (nginx reloaded), then, after the requests it still holds, its
    container goes and its quota is released."""
    Replica.objects.filter(pk=replica.pk).update(status=ReplicaStatus.DRAINING)
    if drain:
        route_write(endpoint=endpoint)
        time.sleep(settings.SERVING_DRAIN_S)
    try:
        driver = driver_for_host(replica.host)
        driver.stop(name=replica.container_name, timeout_s=5)
        driver.remove(name=replica.container_name)
    except DriverError as exc:
        # Left to the serving reconciler, which removes containers no live replica owns.
        log.warning("replica %s: %s", replica.pk, exc)
    replica_forget(replica=replica)
    if explanation:  # why it failed stays on the row, for the page
        Replica.objects.filter(pk=replica.pk).update(explanation=explanation)


def _remove_dead(endpoint: Endpoint) -> None:
    """Replicas whose container died (or whose host lost it) are removed: the steps that follow
    start new ones."""
    for replica in endpoint.replicas.filter(
        status__in=(ReplicaStatus.READY, ReplicaStatus.STARTING)
    ).select_related("host"):
        try:
            state = driver_for_host(replica.host, timeout=10).poll(name=replica.container_name)
        except DriverError:
            state = None
        if state is None or not state.running:
            log.info("replica %s of endpoint %s is gone; replacing it", replica.pk, endpoint.pk)
            _remove(endpoint, replica, drain=False)
            route_write(endpoint=endpoint)


def _teardown(endpoint: Endpoint) -> None:
    route_remove(endpoint=endpoint)
    hosts = set()
    for replica in endpoint.replicas.exclude(status=ReplicaStatus.DELETED).select_related("host"):
        hosts.add(replica.host)
        _remove(endpoint, replica, drain=False)
    hosts |= {r.host for r in endpoint.replicas.select_related("host")}
    for host in hosts:
        try:
            model_source_release(endpoint=endpoint, host_id=host.pk)
            driver_for_host(host).remove_network(name=endpoint.network_name)
        except (DriverError, ServiceError) as exc:
            log.warning("endpoint %s network on %s: %s", endpoint.pk, host, exc)


def replica_spec(endpoint: Endpoint, replica: Replica) -> NodeSpec:
    source = model_source(endpoint=endpoint, version=replica.model_version)
    return NodeSpec(
        name=replica.container_name,
        hostname=f"replica-{replica.pk}",
        image=model_server_image(),
        network=endpoint.network_name,
        user="1000:1000",
        labels={**_labels(endpoint), f"{LABEL_PREFIX}.replica": str(replica.pk)},
        environment={
            **source.environment,
            "MODEL_NAME": endpoint.served_model_name,
            "MODEL_VERSION": replica.model_version,
            "INPUT_WINDOW_ROWS": str(settings.SERVING_INPUT_WINDOW_ROWS),
        },
        nano_cpus=int(Decimal(replica.cpus) * 1_000_000_000),
        memory_bytes=replica.memory_mib * 1024 * 1024,
        pids_limit=PIDS_LIMIT,
        mounts=source.mounts,
        healthcheck=HealthCheck(
            test=["CMD", "/usr/local/bin/model-server-ready"],
            interval_s=30,
            start_period_s=120,
            start_interval_s=2,
        ),
        secret_files=source.secret_files,
    )


def _labels(endpoint: Endpoint) -> dict[str, str]:
    return {f"{LABEL_PREFIX}.endpoint": str(endpoint.pk), f"{LABEL_PREFIX}.tenant": endpoint.tenant.slug}


def _set_status(endpoint: Endpoint, status: str) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(status=status, updated=timezone.now())
    endpoint.status = status


def _finish(endpoint: Endpoint, status: str, explanation: str) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).exclude(status=EndpointStatus.DELETED).update(
        status=status, explanation=explanation, updated=timezone.now()
    )
    endpoint.status, endpoint.explanation = status, explanation


@contextmanager
def _endpoint_lock(endpoint_id: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ENDPOINT_LOCK, endpoint_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ENDPOINT_LOCK, endpoint_id])
