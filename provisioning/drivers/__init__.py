"""Container backends. Nothing outside this package imports the Docker SDK.

A host's URL picks its driver by scheme: unix:// and tcp:// are Docker engines, the only hosts
the pages and the API accept. Another backend registers its scheme with `register_driver`; the
tests register their in-memory engines so, and production code names no test double."""

from collections.abc import Callable

from provisioning.drivers.base import (
    ContainerDriver,
    ContainerState,
    DriverError,
    EngineInfo,
    ExecState,
    HealthCheck,
    HostUnreachable,
    Mount,
    NodeSpec,
)

__all__ = [
    "ContainerDriver",
    "ContainerState",
    "DriverError",
    "DriverFactory",
    "EngineInfo",
    "ExecState",
    "HealthCheck",
    "HostUnreachable",
    "Mount",
    "NodeSpec",
    "driver_for_host",
    "register_driver",
]

#: Makes the driver of a host: called with the host and a keyword `timeout` (seconds).
DriverFactory = Callable[..., ContainerDriver]


def _docker_driver(host, *, timeout: float) -> ContainerDriver:
    from django.conf import settings

    from provisioning.drivers.docker import DockerDriver

    # Only an engine on this machine (its unix socket) shares the files where sized workspaces live.
    local = host.url.startswith("unix://")
    return DockerDriver.for_host(
        host, site=settings.SITE, timeout=timeout, workspace_dir=settings.WORKSPACE_DIR if local else None
    )


_FACTORIES: dict[str, DriverFactory] = {"unix": _docker_driver, "tcp": _docker_driver}


def register_driver(scheme: str, factory: DriverFactory) -> None:
    """Hosts whose URL starts with `scheme://` get their driver from `factory`."""
    _FACTORIES[scheme] = factory


def driver_for_host(host, *, timeout: float = 30) -> ContainerDriver:
    factory = _FACTORIES.get(host.url.partition("://")[0])
    if factory is None:
        # As an engine that does not answer: the host is marked unreachable, nothing crashes.
        raise HostUnreachable(f"No container driver speaks to {host.name} at {host.url}.")
    return factory(host, timeout=timeout)
