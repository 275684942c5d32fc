"""Docker hosts: registration and inventory."""

from django.db import transaction
from django.utils import timezone

from provisioning.drivers import HostUnreachable, driver_for_host
from provisioning.models import Host


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
