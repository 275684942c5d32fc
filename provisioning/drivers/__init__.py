"""Container backends. Nothing outside this package imports the Docker SDK.

A host's URL picks its driver: unix:// and tcp:// are Docker engines; fake:// is the in-memory
test double of provisioning.drivers.fake, registered by unit tests."""

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
    "EngineInfo",
    "ExecState",
    "HealthCheck",
    "HostUnreachable",
    "Mount",
    "NodeSpec",
    "driver_for_host",
]


def driver_for_host(host, *, timeout: float = 30) -> ContainerDriver:
    if host.url.startswith("fake://"):
        from provisioning.drivers.fake import fake_engine

        return fake_engine(host.url)
    from django.conf import settings

    from provisioning.drivers.docker import DockerDriver

    return DockerDriver.for_host(host, site=settings.SITE, timeout=timeout)
