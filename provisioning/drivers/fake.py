"""An in-memory driver for unit tests: behaves like an engine, fails when told to."""

from provisioning.drivers.base import (
    ContainerDriver,
    ContainerState,
    DriverError,
    EngineInfo,
    ExecState,
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
        # Every command run in a container: container name, command, environment, user, detach.
        self.execs: dict[str, dict] = {}
        self.exec_exit_code = 0  # what attached commands exit with
        # Answers attached commands instead: called with the exec's record, returns its
        # (exit code, output), so a test can play what a command inside the container says.
        self.exec_responder = None

    def _check(self):
        if not self.reachable:
            raise HostUnreachable(f"Docker engine {self.name} did not answer")

    def ping(self) -> None:
        self._check()

    def info(self) -> EngineInfo:
        self._check()
        return EngineInfo(cpus=self.cpus, memory_mib=self.memory_mib, engine_version="fake", gpus=self.gpus)

    def ensure_network(self, *, name, labels, overlay=False) -> None:
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
        if not container["running"]:
            self.put_secret_files(name=spec.name, files=spec.secret_files, owner=spec.user)
        container["running"] = True
        return self.poll(name=spec.name)

    def put_secret_files(self, *, name, files, owner) -> None:
        """Recorded per container as {file name: (content, owner)}."""
        self._check()
        if name not in self.containers:
            raise DriverError(f"container {name} does not exist")
        secrets = self.containers[name].setdefault("secret_files", {})
        secrets.update({file: (content, owner) for file, content in files.items()})

    def stop(self, *, name, timeout_s=10) -> None:
        self._check()
        if name in self.containers:
            self.containers[name]["running"] = False
            self._end_execs(name)

    def remove(self, *, name) -> None:
        self._check()
        self.containers.pop(name, None)
        self._end_execs(name)

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

    def exec_start(
        self, *, name, command, environment=None, user=None, workdir=None, detach=False
    ) -> ExecState:
        self._check()
        container = self.containers.get(name)
        if container is None or not container["running"]:
            raise DriverError(f"container {name} is not running")
        exec_id = f"exec-{len(self.execs) + 1}"
        self.execs[exec_id] = {
            "container": name,
            "command": list(command),
            "environment": dict(environment or {}),
            "user": user,
            "workdir": workdir,
            "running": detach,
            "exit_code": None if detach else self.exec_exit_code,
        }
        if not detach and self.exec_responder is not None:
            exit_code, output = self.exec_responder(self.execs[exec_id])
            self.execs[exec_id]["exit_code"] = exit_code
            return ExecState(exec_id=exec_id, running=False, exit_code=exit_code, output=output)
        return self.exec_poll(exec_id=exec_id)

    def exec_poll(self, *, exec_id) -> ExecState:
        self._check()
        record = self.execs.get(exec_id)
        if record is None:
            return ExecState(exec_id=exec_id, running=False)
        return ExecState(exec_id=exec_id, running=record["running"], exit_code=record["exit_code"])

    def exec_end(self, exec_id: str, *, exit_code: int = 0) -> None:
        """Make a detached command end, as if it exited by itself."""
        self.execs[exec_id].update(running=False, exit_code=exit_code)

    def _end_execs(self, name: str) -> None:
        """A stopped container takes its commands with it (killed: 137)."""
        for record in self.execs.values():
            if record["container"] == name and record["running"]:
                record.update(running=False, exit_code=137)


_ENGINES: dict[str, FakeDriver] = {}


def fake_engine(url: str) -> FakeDriver:
    """The fake engine behind a fake:// URL; the same object for the same URL."""
    return _ENGINES.setdefault(url, FakeDriver(name=url.removeprefix("fake://")))


def fake_engines_reset() -> None:
    _ENGINES.clear()
