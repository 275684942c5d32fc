"""Container backends. Nothing outside this package imports the Docker SDK."""

from provisioning.drivers.base import ContainerDriver, DriverError, EngineInfo, HostUnreachable

__all__ = ["ContainerDriver", "DriverError", "EngineInfo", "HostUnreachable", "driver_for_host"]


def driver_for_host(host, *, timeout: float = 30) -> ContainerDriver:
    from provisioning.drivers.docker import DockerDriver

    return DockerDriver.for_host(host, timeout=timeout)
