"""An in-memory driver for unit tests: behaves like an engine, fails when told to."""

from provisioning.drivers.base import (
    ContainerDriver,
    ContainerState,
    DriverError,
    EngineInfo,
    HostUnreachable,
    NodeSpec,
)


class FakeDriver(ContainerDriver):
    def __init__(
        self, *, name: str = "fake", cpus: int = 8, memory_mib: int = 32768, gpus: list | None = None
    ):
        self.name = name
        self.cpus = cpus
        self.memory_mib = memory_mib
        self.gpus = gpus or []
        self.containers: dict[str, dict] = {}
        self.networks: set[str] = set()
        self.volumes: dict[str, dict] = {}
        self.reachable = True
        self.fail_start: str | None = None  # a message to fail every start with
        self.health = "healthy"  # what started containers report

    def _check(self):
        if not self.reachable:
            raise HostUnreachable(f"Docker engine {self.name} did not answer")

    def ping(self) -> None:
        self._check()

    def info(self) -> EngineInfo:
        self._check()
        return EngineInfo(cpus=self.cpus, memory_mib=self.memory_mib, engine_version="fake", gpus=self.gpus)

    def ensure_network(self, *, name, labels) -> None:
        self._check()
        self.networks.add(name)

    def remove_network(self, *, name) -> None:
        self._check()
        self.networks.discard(name)

    def ensure_volume(self, *, name, labels, driver_opts=None) -> None:
        self._check()
        self.volumes.setdefault(name, {"labels": labels, "driver_opts": driver_opts or {}})

    def remove_volume(self, *, name) -> None:
        self._check()
        self.volumes.pop(name, None)

    def start(self, spec: NodeSpec) -> ContainerState:
        self._check()
        if self.fail_start:
            raise DriverError(self.fail_start)
        if spec.network not in self.networks:
            raise DriverError(f"network {spec.network} not found")
        container = self.containers.setdefault(spec.name, {"spec": spec, "running": False})
        container["running"] = True
        return self.poll(name=spec.name)

    def stop(self, *, name, timeout_s=10) -> None:
        self._check()
        if name in self.containers:
            self.containers[name]["running"] = False

    def remove(self, *, name) -> None:
        self._check()
        self.containers.pop(name, None)

    def poll(self, *, name) -> ContainerState:
        self._check()
        container = self.containers.get(name)
        if container is None:
            return ContainerState(name=name, exists=False)
        running = container["running"]
        return ContainerState(
            name=name,
            exists=True,
            running=running,
            health=self.health if running else "none",
            exit_code=None if running else 0,
            ip="10.0.0.2" if running else None,
            labels=container["spec"].labels,
        )

    def list_managed(self) -> list[ContainerState]:
        self._check()
        return [self.poll(name=name) for name in self.containers]

    def list_managed_networks(self) -> list[str]:
        self._check()
        return sorted(self.networks)

    def list_managed_volumes(self) -> list[str]:
        self._check()
        return sorted(self.volumes)

    def logs(self, *, name, tail=200) -> str:
        self._check()
        return "fake log line\n" if name in self.containers else ""


_ENGINES: dict[str, FakeDriver] = {}


def fake_engine(url: str) -> FakeDriver:
    """The fake engine behind a fake:// URL; the same object for the same URL."""
    return _ENGINES.setdefault(url, FakeDriver(name=url.removeprefix("fake://")))


def fake_engines_reset() -> None:
    _ENGINES.clear()
