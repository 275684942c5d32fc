"""The contract between the platform and a container backend, in the spirit of JupyterHub's
Spawner: small, synchronous, and idempotent, so that Celery tasks can retry any step."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class DriverError(Exception):
    """The engine refused or failed an operation; the message is fit for a user."""


class HostUnreachable(DriverError):
    """The engine did not answer at all."""


@dataclass(frozen=True)
class EngineInfo:
    cpus: int
    memory_mib: int
    engine_version: str
    gpus: list[dict] = field(default_factory=list)


class ContainerDriver(ABC):
    @abstractmethod
    def ping(self) -> None:
        """Return when the engine answers; raise HostUnreachable otherwise."""

    @abstractmethod
    def info(self) -> EngineInfo:
        """Capacity and version of the engine."""
