"""Docker hosts: registration and inventory."""

from django.db import transaction
from django.utils import timezone

from catalog.manifest import host_labels_problems
from provisioning.drivers import DriverError, driver_for_host
from provisioning.errors import InvalidRequest
from provisioning.models import Host
from provisioning.services.admission import queue_admit_soon
from tenants.services.audit import audit_record


def host_inventory_refresh(*, host: Host) -> Host:
    """Ask the engine for its capacity; an engine that does not answer marks the host
    unreachable, and one that answers again becomes ready (unless an admin drained or
    disabled it)."""
    try:
        info = driver_for_host(host, timeout=10).info()
    except DriverError as exc:  # HostUnreachable, or an engine that refuses us (TLS, API version)
        Host.objects.filter(pk=host.pk, state=Host.State.READY).update(
            state=Host.State.UNREACHABLE, last_error=str(exc)
        )
        host.refresh_from_db()
        return host
    Host.objects.filter(pk=host.pk).update(
        cpus=info.cpus,
        memory_mib=info.memory_mib,
        gpus=info.gpus,
        engine_version=info.engine_version,
        swarm=info.swarm,
        swarm_manager=info.swarm_manager,
        last_seen=timezone.now(),
        last_error="",
    )
    Host.objects.filter(pk=host.pk, state=Host.State.UNREACHABLE).update(state=Host.State.READY)
    host.refresh_from_db()
    if host.state == Host.State.READY:  # added, back, or grown: queued launches may fit now
        queue_admit_soon()
    return host


@transaction.atomic
def host_ensure_default(*, url: str) -> Host:
    host, _ = Host.objects.get_or_create(name="local", defaults={"url": url})
    return host


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
    """Add a Docker engine and take its inventory at once: an engine that does not answer is
    still registered, as unreachable, with the reason."""
    if Host.objects.filter(name=name).exists():
        raise InvalidRequest({"name": [f"A host named {name!r} exists already."]})
    if problems := host_labels_problems(labels or {}):
        raise InvalidRequest({"labels": problems})
    if problems := _tls_problems(url, tls_ca_cert, tls_client_cert, tls_client_key):
        raise InvalidRequest(problems)
    host = Host.objects.create(
        name=name,
        url=url,
        labels=labels or {},
        tls_ca_cert=tls_ca_cert,
        tls_client_cert=tls_client_cert,
        tls_client_key=tls_client_key,
    )
    host = host_inventory_refresh(host=host)
    audit_record(actor=actor, action="host.create", target=host, ip=ip, detail={"state": host.state})
    return host


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
