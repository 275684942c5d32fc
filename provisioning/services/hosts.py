"""Docker hosts: registration and inventory."""

from django.db import transaction
from django.utils import timezone

from provisioning.drivers import HostUnreachable, driver_for_host
from provisioning.errors import InvalidRequest
from provisioning.models import Host
from tenants.services.audit import audit_record


def host_inventory_refresh(*, host: Host) -> Host:
    """Ask the engine for its capacity; an engine that does not answer marks the host
    unreachable, and one that answers again becomes ready (unless an admin drained or
    disabled it)."""
    try:
        info = driver_for_host(host, timeout=10).info()
    except HostUnreachable as exc:
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
        last_seen=timezone.now(),
        last_error="",
    )
    Host.objects.filter(pk=host.pk, state=Host.State.UNREACHABLE).update(state=Host.State.READY)
    host.refresh_from_db()
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
