"""Docker hosts: registration, inventory, deletion."""

import os
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.manifest import host_labels_problems
from common.errors import Conflict
from provisioning.drivers import DriverError, driver_for_host
from provisioning.errors import InvalidRequest
from provisioning.models import Host, Node, NodeStatus
from provisioning.services.admission import queue_admit_soon
from provisioning.services.dispatch import host_inventory_enqueue
from tenants.services.audit import audit_record

DOCKER_TLS_PORT = 2376  # the engine's port for TLS, which is the only way the platform speaks TCP


class HostInUse(Conflict):
    code = "host_in_use"


def host_inventory_refresh(*, host: Host) -> Host:
    """Ask the engine for its capacity; an engine that does not answer marks the host
    unreachable, and one that answers again becomes ready (unless an admin drained or
    disabled it). An engine that another host already names is refused: the host is disabled,
    with the reason, and never reconciled."""
    try:
        info = driver_for_host(host, timeout=10).info()
    except DriverError as exc:  # HostUnreachable, or an engine that refuses us (TLS, API version)
        Host.objects.filter(pk=host.pk, state__in=[Host.State.READY, Host.State.PENDING]).update(
            state=Host.State.UNREACHABLE, explanation=str(exc)
        )
        host.refresh_from_db()
        return host
    if twin := _host_of_engine(info.engine_id, besides=host):
        Host.objects.filter(pk=host.pk).update(
            state=Host.State.DISABLED,
            explanation=f"This engine (ID {info.engine_id}) is registered already, as host {twin.name}.",
        )
        host.refresh_from_db()
        return host
    try:
        with transaction.atomic():
            Host.objects.filter(pk=host.pk).update(
                cpus=info.cpus,
                memory_mib=info.memory_mib,
                gpus=info.gpus,
                engine_version=info.engine_version,
                engine_id=info.engine_id,
                swarm=info.swarm,
                swarm_manager=info.swarm_manager,
                last_seen=timezone.now(),
                explanation="",
            )
    except IntegrityError:  # another host took this engine ID since we looked: it keeps it
        return host_inventory_refresh(host=host)
    Host.objects.filter(pk=host.pk, state__in=[Host.State.UNREACHABLE, Host.State.PENDING]).update(
        state=Host.State.READY
    )
    host.refresh_from_db()
    if host.state == Host.State.READY:  # added, back, or grown: queued launches may fit now
        queue_admit_soon()
    return host


def host_inventory_take(*, host_id: int) -> Host | None:
    """The worker's half of registration (and of the reconciler's retries for a host still
    pending): the first inventory. A host deleted meanwhile is no error."""
    host = Host.objects.filter(pk=host_id).first()
    if host is None:
        return None
    try:
        return host_inventory_refresh(host=host)
    except Host.DoesNotExist:  # deleted while its engine was being asked
        return None


def _host_of_engine(engine_id: str, *, besides: Host) -> Host | None:
    if not engine_id:
        return None
    return Host.objects.filter(engine_id=engine_id).exclude(pk=besides.pk).first()


@transaction.atomic
def host_ensure_default(*, url: str) -> Host:
    host, _ = Host.objects.get_or_create(name="local", defaults={"url": host_url_normalise(url)})
    return host


def host_url_normalise(url: str) -> str:
    """One spelling per engine address: `unix:///var/run//docker.sock`, `unix:///run/docker.sock`
    (when /var/run links to /run) and `unix://var/run/docker.sock` are one socket; `tcp://Box:2376/`
    and `tcp://box:2376` one address. The engine ID check catches what spelling cannot (two names
    of one machine)."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        return url
    if scheme == "unix":
        # The socket is on this machine: resolve links (/var/run -> /run) and doubled slashes.
        return f"unix://{os.path.realpath('/' + rest.lstrip('/'))}"
    if scheme == "tcp":
        address = urlsplit(f"tcp://{rest}")
        if address.hostname is None:
            return url
        try:
            port = address.port or DOCKER_TLS_PORT
        except ValueError:  # a port that is not a number: left for the engine to refuse
            return url
        host = f"[{address.hostname}]" if ":" in address.hostname else address.hostname
        return f"tcp://{host}:{port}"
    return url


def host_register(
    *,
    actor,
    name: str,
    url: str,
    labels: dict | None = None,
    tls_ca_cert: str = "",
    tls_client_cert: str = "",
    tls_client_key: str = "",
    ip: str | None = None,
) -> Host:
    """Add a Docker engine, `pending` until a worker has taken its inventory (an engine may take
    seconds to answer, or never: no web thread waits for it). An engine that does not answer ends
    up unreachable, with the reason; one registered already, disabled, with the reason."""
    url = host_url_normalise(url)
    if Host.objects.filter(name=name).exists():
        raise InvalidRequest({"name": [f"A host named {name!r} exists already."]})
    if problems := host_labels_problems(labels or {}):
        raise InvalidRequest({"labels": problems})
    if problems := _tls_problems(url, tls_ca_cert, tls_client_cert, tls_client_key):
        raise InvalidRequest(problems)
    if twin := next((h for h in Host.objects.all() if host_url_normalise(h.url) == url), None):
        raise InvalidRequest({"url": [f"Host {twin.name} is this engine ({url}) already."]})
    host = Host.objects.create(
        name=name,
        url=url,
        state=Host.State.PENDING,
        labels=labels or {},
        tls_ca_cert=tls_ca_cert,
        tls_client_cert=tls_client_cert,
        tls_client_key=tls_client_key,
    )
    audit_record(actor=actor, action="host.create", target=host, ip=ip, detail={"state": host.state})
    host_inventory_enqueue(host)
    return host


@transaction.atomic
def host_delete(*, actor, host: Host, ip: str | None = None) -> None:
    """Remove a host the platform no longer uses. Refused while any node is recorded on it that
    is not deleted: its containers may run, and its quota is held. The records of deleted nodes
    keep their history without the host."""
    host = Host.objects.select_for_update().get(pk=host.pk)
    live = list(Node.objects.filter(host=host).exclude(status=NodeStatus.DELETED).select_related("sandbox"))
    if live:
        names = sorted(str(node) for node in live)
        raise HostInUse(
            f"Host {host.name} still holds {len(live)} node(s): {', '.join(names)}. Delete their "
            "sandboxes first (drain the host so that it takes no new ones).",
            nodes=names,
        )
    Node.objects.filter(host=host).update(host=None)
    audit_record(actor=actor, action="host.delete", target=host, ip=ip, detail={"url": host.url})
    host.delete()


def _tls_problems(url: str, ca: str, cert: str, key: str) -> dict[str, list[str]]:
    """An engine's TCP API is root on that machine: the platform speaks to one only over TLS
    with a client certificate, and checks the engine's certificate against the CA given."""
    if not url.startswith("tcp://"):
        return {}
    problems = {}
    for field, pem, kind in (
        ("tls_ca_cert", ca, "CERTIFICATE"),
        ("tls_client_cert", cert, "CERTIFICATE"),
        ("tls_client_key", key, "PRIVATE KEY"),
    ):
        if not pem.strip():
            problems[field] = ["Required for a tcp:// engine (TLS with client certificates)."]
        elif not _is_pem(pem, kind):
            problems[field] = [f"Paste a PEM {kind.lower()}."]
    return problems


def _is_pem(text: str, kind: str) -> bool:
    first = text.strip().splitlines()[0]
    return first.startswith("-----BEGIN ") and first.endswith(f"{kind}-----")


# Which states an admin may put a host in. `unreachable` is the inventory's to set, never a
# person's; `ready` from `unreachable` happens when the engine answers again.
ADMIN_STATES = (Host.State.READY, Host.State.DRAINING, Host.State.DISABLED)


@transaction.atomic
def host_set_state(*, actor, host: Host, state: str, ip: str | None = None) -> Host:
    """Drain (keeps its nodes, takes no new ones), disable (out of service: the reconciler
    leaves it alone) or bring a host back. Returning a host to service takes a fresh inventory,
    so one whose engine is gone comes back as unreachable, not ready."""
    if state not in ADMIN_STATES:
        raise InvalidRequest({"state": [f"Choose one of: {', '.join(ADMIN_STATES)}."]})
    host = Host.objects.select_for_update().get(pk=host.pk)
    before = host.state
    if before == state:
        return host
    host.state = state
    host.save(update_fields=["state"])
    audit_record(actor=actor, action="host.state", target=host, ip=ip, detail={"from": before, "to": state})
    if state == Host.State.READY:
        transaction.on_commit(lambda: host_inventory_refresh(host=host))
    return host
