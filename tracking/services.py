"""A tenant's tracking server: turn it on and off (tenant admins), the worker's converge step,
the reconcile pass, its data's removal, the gateway's question, and what sandboxes and endpoints
use to reach it (tracking_client_config, tracking_join_network, tracking_leave_network: the
contract with serving/)."""

import base64
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.services.platform_images import platform_image_check
from catalog.states import PlatformImageState
from common.async_work import Outcome, enqueue_after_commit
from common.errors import Conflict, Unavailable
from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import ContainerDriver, DriverError, driver_for_host
from provisioning.models import Host, Sandbox
from provisioning.services.gateway import GatewayNotFound, GatewayNotReady, GatewayPass
from provisioning.services.hosts import host_url_normalise
from provisioning.services.worker_locks import worker_lock
from provisioning.states import SANDBOX_KEEPS_RESOURCES
from tenants.models import Tenant, User
from tenants.resources import AllocationRequest, Resources
from tenants.selectors.tenants import tenant_list
from tenants.services.audit import audit_record
from tenants.services.quota import quota_release, quota_reserve
from tracking import naming
from tracking.containers import tracking_labels, tracking_server_spec
from tracking.database import DatabaseUnavailable, tracking_database_drop, tracking_database_ensure
from tracking.image_build import tracking_platform_image
from tracking.models import TrackingServer
from tracking.selectors import tracking_server_purgeable
from tracking.states import TRACKING_IN_FLIGHT, TRACKING_TRANSITIONS, TrackingStatus

log = logging.getLogger(__name__)

#: Advisory lock namespace (provisioning.services.worker_locks): one worker per tracking server.
TRACKING_LOCK = 71_101
#: The gateway's address of a tenant's MLflow UI: /gateway/tracking/<tenant slug>/...
GATEWAY_PATH = re.compile(r"^/gateway/tracking/(?P<slug>[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?)(?:/|$)")
PROBE_TIMEOUT_S = 3
#: How often a start that waits for its image being built looks again.
IMAGE_WAIT_S = 10


@dataclass(frozen=True)
class TrackingClientConfig:
    """How a container on a network the server joined reaches it."""

    uri: str
    username: str
    password: str


def tracking_client_config(*, server: TrackingServer) -> TrackingClientConfig:
    return TrackingClientConfig(
        uri=f"http://{naming.ALIAS}:{naming.PORT}{naming.static_prefix(server.tenant.slug)}",
        username=server.username,
        password=server.password,
    )


def tracking_join_network(*, server: TrackingServer, network: str) -> None:
    """Attach the server's container to `network` (a bridge of its host), where it is `mlflow`."""
    _driver(server).connect_network(
        name=naming.container_name(server.tenant_id), network=network, aliases=(naming.ALIAS,)
    )


def tracking_leave_network(*, server: TrackingServer, network: str) -> None:
    _driver(server).disconnect_network(name=naming.container_name(server.tenant_id), network=network)


class TrackingConflict(Conflict):
    code = "tracking_conflict"


class TrackingUnavailable(Unavailable):
    code = "tracking_unavailable"


@transaction.atomic
def tracking_set_enabled(
    *, actor: User, tenant: Tenant, enabled: bool, ip: str | None = None
) -> TrackingServer | None:
    """Turn the tenant's tracking server on or off; a worker does the rest (tracking_converge).

    On: the first time, the artifact volume's size is reserved against the tenant's
    `storage_gib` in this transaction (QuotaExceeded, 409, changes nothing). Off: the container
    goes; its database and volume stay (and keep holding that storage) until
    tracking_server_purge. Asking for what already is changes nothing. Callers check that
    `actor` may administer the tenant."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    server = TrackingServer.objects.select_for_update().filter(tenant=tenant).first()
    if enabled:
        if tenant.tracking and server is not None and server.status != TrackingStatus.ERROR:
            return server
        if server is None:
            server = _server_create(actor=actor, tenant=tenant)
        elif server.status in TRACKING_TRANSITIONS["enable"].allowed_from | {TrackingStatus.STOPPING}:
            # From stopping too: the worker that stops it finds it wanted again and starts it.
            server.status = TRACKING_TRANSITIONS["enable"].through
            server.started = timezone.now()
            server.explanation = ""
            server.save(update_fields=["status", "started", "explanation", "updated"])
    else:
        if not tenant.tracking and (server is None or server.status == TrackingStatus.DISABLED):
            return server
        if server is not None and server.status in TRACKING_TRANSITIONS["disable"].allowed_from:
            server.status = TRACKING_TRANSITIONS["disable"].through
            server.save(update_fields=["status", "updated"])
    tenant.tracking = enabled
    tenant.save(update_fields=["tracking"])
    audit_record(
        actor=actor,
        action="tenant.tracking",
        tenant=tenant,
        target=tenant,
        ip=ip,
        detail={"after": enabled},
    )
    if server is not None:
        from tracking.tasks import tracking_converge

        enqueue_after_commit(tracking_converge, server.pk, what="tracking server")
    return server


def _server_create(*, actor: User, tenant: Tenant) -> TrackingServer:
    host = Host.objects.filter(url=host_url_normalise(settings.DOCKER_DEFAULT_URL)).first()
    if host is None:
        raise TrackingUnavailable(
            "The local Docker engine is not registered as a host: run the portal's setup."
        )
    quota_reserve(
        tenant=tenant,
        owner=actor,
        group=naming.quota_group(tenant.pk),
        requests=[
            AllocationRequest(
                subject=naming.quota_subject(tenant.pk),
                resources=Resources(storage_gib=settings.TRACKING_STORAGE_GIB),
                attributes={"kind": "tracking"},
            )
        ],
    )
    return TrackingServer.objects.create(
        tenant=tenant,
        host=host,
        storage_gib=settings.TRACKING_STORAGE_GIB,
        status=TRACKING_TRANSITIONS["enable"].through,
        started=timezone.now(),
    )


def tracking_converge(*, server_id: int) -> Outcome:
    """The worker's step: make what runs match the server's status (starting: database, network,
    volume, container, until MLflow answers; stopping: no container). Idempotent and adoptive:
    every name derives from the tenant's id. One worker at a time per server."""
    with worker_lock(TRACKING_LOCK, server_id) as acquired:
        if not acquired:
            return Outcome(again_in=2)
        server = TrackingServer.objects.select_related("tenant", "host").filter(pk=server_id).first()
        if server is None:
            return Outcome()
        if server.status == TrackingStatus.STARTING:
            return _start(server)
        if server.status == TrackingStatus.STOPPING:
            return _stop(server)
        return Outcome()


def _start(server: TrackingServer) -> Outcome:
    driver = _driver(server)
    tenant_id = server.tenant_id
    try:
        tracking_database_ensure(name=naming.database_name(tenant_id), password=server.db_password)
        driver.ensure_network(name=naming.network_name(tenant_id), labels=tracking_labels(server))
        driver.ensure_volume(
            name=naming.volume_name(tenant_id), labels=tracking_labels(server), size_gib=server.storage_gib
        )
        state = driver.start(tracking_server_spec(server))
    except DatabaseUnavailable as exc:
        return _fail(server, driver, f"The tracking server could not start: {exc}")
    except DriverError as exc:
        image = platform_image_check(image=tracking_platform_image())
        if image.state == PlatformImageState.BUILDING:
            # Its start timeout counts from when the image is there.
            TrackingServer.objects.filter(pk=server.pk, status=TrackingStatus.STARTING).update(
                explanation=image.explanation, started=timezone.now(), updated=timezone.now()
            )
            return Outcome(again_in=IMAGE_WAIT_S)
        return _fail(server, driver, f"The tracking server could not start: {image.explanation or exc}")
    if not state.running:
        logs = driver.logs(name=naming.container_name(tenant_id), tail=20).strip()
        return _fail(server, driver, f"MLflow exited ({state.exit_code}): {logs[-1500:]}")
    if not _answers(server, state.ip):
        waited = timezone.now() - (server.started or server.created)
        if waited > timedelta(seconds=settings.TRACKING_START_TIMEOUT_S):
            logs = driver.logs(name=naming.container_name(tenant_id), tail=20).strip()
            return _fail(
                server,
                driver,
                f"MLflow did not answer within {settings.TRACKING_START_TIMEOUT_S} s: {logs[-1500:]}",
            )
        # Still making progress: the reconcile pass resumes only starts nobody works on.
        TrackingServer.objects.filter(pk=server.pk).update(updated=timezone.now())
        return Outcome(again_in=2)
    TrackingServer.objects.filter(pk=server.pk, status=TrackingStatus.STARTING).update(
        status=TrackingStatus.READY, ip=state.ip, explanation="", updated=timezone.now()
    )
    server.refresh_from_db()
    if server.status == TrackingStatus.READY:
        _join_sandbox_networks(server, driver)
        return Outcome()
    return Outcome(again_in=0)  # switched off meanwhile: stop it now


def _fail(server: TrackingServer, driver: ContainerDriver, explanation: str) -> Outcome:
    """Nothing of a failed start keeps running: its container and network go. Its database and
    volume (its data, if it ever had some) stay with the row, as when it is switched off."""
    log.warning("tracking server of tenant %s: %s", server.tenant_id, explanation)
    try:
        driver.remove(name=naming.container_name(server.tenant_id))
        driver.remove_network(name=naming.network_name(server.tenant_id))
    except DriverError as exc:
        explanation = f"{explanation} (cleaning up failed too, the reconcile pass retries: {exc})"
    TrackingServer.objects.filter(pk=server.pk, status=TrackingStatus.STARTING).update(
        status=TRACKING_TRANSITIONS["enable"].fails, explanation=explanation, ip=None, updated=timezone.now()
    )
    return Outcome()


def _stop(server: TrackingServer) -> Outcome:
    driver = _driver(server)
    try:
        driver.remove(name=naming.container_name(server.tenant_id))
        driver.remove_network(name=naming.network_name(server.tenant_id))
    except DriverError as exc:
        log.warning("tracking server of tenant %s did not stop yet: %s", server.tenant_id, exc)
        return Outcome(again_in=10)
    TrackingServer.objects.filter(pk=server.pk, status=TrackingStatus.STOPPING).update(
        status=TRACKING_TRANSITIONS["disable"].ends, ip=None, updated=timezone.now()
    )
    return Outcome()


def _answers(server: TrackingServer, ip: str | None) -> bool:
    """MLflow answers its health check (the worker reaches its host's bridges)."""
    if not ip:
        return False
    url = f"http://{ip}:{naming.PORT}{naming.static_prefix(server.tenant.slug)}/health"
    request = urllib.request.Request(url, headers={"Authorization": _basic(server)})  # noqa: S310 - http only
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as answer:  # noqa: S310
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _join_sandbox_networks(server: TrackingServer, driver: ContainerDriver) -> None:
    """A new container (a first start, or one made again) is on no sandbox network yet: join those
    of the tenant's live sandboxes on its host, so their nodes find it again."""
    sandboxes = Sandbox.objects.filter(
        tenant_id=server.tenant_id, status__in=SANDBOX_KEEPS_RESOURCES, swarm=""
    ).filter(nodes__host_id=server.host_id)
    for sandbox in sandboxes.distinct():
        try:
            driver.connect_network(
                name=naming.container_name(server.tenant_id),
                network=sandbox.network_name,
                aliases=(naming.ALIAS,),
            )
        except DriverError as exc:  # a network being removed right now, say
            log.info(
                "tracking server of tenant %s: not joining %s: %s",
                server.tenant_id,
                sandbox.network_name,
                exc,
            )


def tracking_server_purge(*, actor: User | None, tenant: Tenant, ip: str | None = None) -> None:
    """Remove a switched-off tracking server's data for good: its database and role, its artifact
    volume, and the storage it held. The tenant's runs, models and artifacts are gone after."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        server = TrackingServer.objects.select_for_update().filter(tenant=tenant).first()
        if server is None:
            return
        server.tenant = tenant
        if not tracking_server_purgeable(server=server):
            raise TrackingConflict("Switch tracking off, and wait until it is off, before deleting its data.")
        driver = _driver(server)
        try:
            driver.remove(name=naming.container_name(tenant.pk))
            driver.remove_network(name=naming.network_name(tenant.pk))
            driver.remove_volume(name=naming.volume_name(tenant.pk))
            tracking_database_drop(name=naming.database_name(tenant.pk))
        except (DriverError, DatabaseUnavailable) as exc:
            raise TrackingUnavailable(f"The tracking server's data could not be removed: {exc}") from exc
        quota_release(group=naming.quota_group(tenant.pk))
        server.delete()
        audit_record(actor=actor, action="tenant.tracking_purge", tenant=tenant, target=tenant, ip=ip)


def tracking_reconcile() -> dict:
    """The periodic pass: a start or stop whose worker died is handed to a worker again; a ready
    server whose container is gone or stopped is started again; a container of a server that
    should not run is removed."""
    from tracking.tasks import tracking_converge as converge_task

    report = {"resumed": 0, "restarted": 0, "orphans_removed": 0}
    stale = timezone.now() - timedelta(seconds=settings.OPERATION_STALE_S)
    for server in TrackingServer.objects.filter(status__in=TRACKING_IN_FLIGHT, updated__lt=stale):
        converge_task.delay(server.pk)
        report["resumed"] += 1
    servers = TrackingServer.objects.select_related("tenant", "host")
    for host in Host.objects.filter(pk__in=servers.values("host_id")):
        driver = driver_for_host(host, timeout=10)
        try:
            running = {c.name: c for c in driver.list_managed() if c.labels.get(f"{LABEL_PREFIX}.tracking")}
        except DriverError:
            continue
        wanted = {}
        for server in servers.filter(host=host):
            wanted[naming.container_name(server.tenant_id)] = server
        for name in running:
            server = wanted.get(name)
            if server is None or server.status == TrackingStatus.DISABLED:
                driver.remove(name=name)
                report["orphans_removed"] += 1
        for name, server in wanted.items():
            if server.status != TrackingStatus.READY:
                continue
            state = running.get(name)
            if state is None or not state.running:
                restarted = TrackingServer.objects.filter(pk=server.pk, status=TrackingStatus.READY).update(
                    status=TrackingStatus.STARTING, started=timezone.now(), updated=timezone.now()
                )
                if restarted:
                    converge_task.delay(server.pk)
                    report["restarted"] += 1
            else:
                _join_sandbox_networks(server, driver)
    return report


def tracking_gateway_pass(*, user, uri: str) -> GatewayPass:
    """May `user` open the MLflow UI of the tenant `uri` names, and where is it? Members, tenant
    admins and site admins of that tenant pass; another tenant's is NotFound, as one that does
    not exist. The gateway adds the server's credentials: the browser never holds them."""
    match = GATEWAY_PATH.match(uri or "")
    if match is None:
        raise GatewayNotFound("Not a tracking server address.")
    tenant = tenant_list(user=user).filter(slug=match["slug"]).first()
    if tenant is None or not tenant.tracking:
        raise GatewayNotFound("No such tracking server.")
    server = TrackingServer.objects.select_related("tenant").filter(tenant=tenant).first()
    if server is None or server.status != TrackingStatus.READY or not server.ip:
        raise GatewayNotReady(f"The tracking server of {tenant.slug} is starting: try again in a minute.")
    return GatewayPass(upstream=f"{server.ip}:{naming.PORT}", authorization=_basic(server))


def tracking_gateway_url(*, tenant: Tenant) -> str:
    """Where a browser opens the tenant's MLflow UI."""
    return f"{settings.GATEWAY_URL}{naming.static_prefix(tenant.slug)}/"


def tracking_is_gateway_path(*, uri: str) -> bool:
    return uri.startswith(naming.GATEWAY_ROOT)


def _basic(server: TrackingServer) -> str:
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    return f"Basic {token}"


def _driver(server: TrackingServer) -> ContainerDriver:
    return driver_for_host(server.host)
