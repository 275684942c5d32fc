"""Test doubles of a container engine, behind the real driver interface (in the spirit of
JupyterHub's test spawners): an in-memory engine that behaves like one, and named variations of
it: a slow one, a failing one, a never-ready one.

Hosts at fake:// URLs run on these: `fake_engines_register` (called by the root conftest for
every test) registers the scheme with the driver registry; one engine per URL, the plain
`FakeEngine` unless a test installs another with `fake_engine_install`."""

import math
from dataclasses import replace

from provisioning.drivers import register_driver
from provisioning.drivers.base import (
    ContainerDriver,
    ContainerState,
    DriverError,
    EngineInfo,
    ExecState,
    HostUnreachable,
    NodeSpec,
)

SCHEME = "fake"


class FakeEngine(ContainerDriver):
    """A healthy engine in memory: containers, networks, volumes and commands as dictionaries a
    test can read and change (`reachable = False` plays an engine that stopped answering)."""

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
        self.images: set[str] = set()  # references, `<registry>/<slug>:<version>`; start adds its own
        self.reachable = True
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
        for container in self.containers.values():
            container.setdefault("joined", set()).discard(name)

    def connect_network(self, *, name, network, aliases=()) -> None:
        """Recorded per container in its "joined" set."""
        self._check()
        if name not in self.containers or network not in self.networks:
            raise DriverError(f"container {name} or network {network} not found")
        self.containers[name].setdefault("joined", set()).add(network)

    def disconnect_network(self, *, name, network) -> None:
        self._check()
        if name in self.containers:
            self.containers[name].setdefault("joined", set()).discard(network)

    def ensure_volume(self, *, name, labels, driver_opts=None, size_gib=None) -> None:
        self._check()
        self.volumes.setdefault(
            name, {"labels": labels, "driver_opts": driver_opts or {}, "size_gib": size_gib}
        )

    def remove_volume(self, *, name) -> None:
        self._check()
        self.volumes.pop(name, None)

    def start(self, spec: NodeSpec) -> ContainerState:
        self._check()
        if spec.network not in self.networks:
            raise DriverError(f"network {spec.network} not found")
        self.images.add(spec.image)
        container = self.containers.setdefault(spec.name, {"spec": spec, "running": False})
        if not container["running"]:  # as the contract says of bind mounts, made again
            container["spec"] = spec
            self.put_secret_files(name=spec.name, files=spec.secret_files, owner=spec.user)
        container["running"] = True
        return self.poll(name=spec.name)

    def network_join(self, *, name, network, alias, leave="") -> None:
        """Recorded per container as its networks: {network: alias}."""
        self._check()
        if name not in self.containers or not self.containers[name]["running"]:
            raise DriverError(f"container {name} is not running")
        if network not in self.networks:
            raise DriverError(f"network {network} not found")
        joined = self.containers[name].setdefault("networks", {self.containers[name]["spec"].network: None})
        joined[network] = alias
        joined.pop(leave, None)

    def rename(self, *, name, new_name) -> None:
        self._check()
        if name in self.containers:
            self.containers[new_name] = self.containers.pop(name)
        elif new_name not in self.containers:
            raise DriverError(f"container {name} does not exist")

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
            binds={m.target: m.source for m in container["spec"].mounts if m.kind == "bind"},
            image=container["spec"].image,
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

    def image_tags(self, *, repository) -> list[str]:
        self._check()
        return sorted(ref.rpartition(":")[2] for ref in self.images if ref.rpartition(":")[0] == repository)

    def remove_image(self, *, ref) -> bool:
        self._check()
        if any(container["spec"].image == ref for container in self.containers.values()):
            return False
        self.images.discard(ref)
        return True

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


class FailingEngine(FakeEngine):
    """An engine that answers but refuses every container start, saying `message`
    (an image it does not have, a volume it cannot mount)."""

    def __init__(self, *, message: str = "image not found", **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def start(self, spec: NodeSpec) -> ContainerState:
        self._check()
        raise DriverError(self.message)


class SlowEngine(FakeEngine):
    """Containers start, but pass their healthcheck only from the `ready_after`-th look on:
    until then the engine says "starting"."""

    def __init__(self, *, ready_after: float = 3, **kwargs):
        super().__init__(**kwargs)
        self.ready_after = ready_after
        self.looks: dict[str, int] = {}

    def start(self, spec: NodeSpec) -> ContainerState:
        if not self.poll(name=spec.name).running:
            self.looks[spec.name] = 0  # a container (re)started is slow again
        return super().start(spec)

    def poll(self, *, name) -> ContainerState:
        state = super().poll(name=name)
        if not state.running:
            return state
        self.looks[name] = self.looks.get(name, 0) + 1
        return state if self._ready(name) else replace(state, health="starting")

    def _ready(self, name: str) -> bool:
        return self.looks.get(name, 0) > self.ready_after


class NeverReadyEngine(SlowEngine):
    """Containers run but never pass their healthcheck."""

    def __init__(self, **kwargs):
        super().__init__(ready_after=math.inf, **kwargs)


def node_container(sandbox, hostname: str) -> str:
    """The container of a sandbox's node ("head-0") on its engine."""
    return f"{sandbox.resource_prefix}-{hostname}"


def hostname_of(container_name: str) -> str:
    return "-".join(container_name.rsplit("-", 2)[-2:])


class JobProcesses:
    """Plays a job's processes inside the fake containers of `engine`: what the probe reads
    back and how each process takes a signal."""

    def __init__(self, engine: FakeEngine):
        self.state: dict[str, str] = {}  # container name -> running | exit:N | gone
        self.logs: dict[str, bytes] = {}
        self.ignores_term: set[str] = set()
        self.signals: list[tuple[str, str]] = []
        engine.exec_responder = self.answer

    def answer(self, record):
        from provisioning.services import jobs as job_services

        name, script, args = record["container"], record["command"][2], record["command"][4:]
        if script == job_services._PREPARE:
            self.state.setdefault(name, "running")
            return 0, ""
        if script == job_services._SIGNAL:
            self.signals.append((hostname_of(name), args[1]))
            if args[1] == "KILL" or name not in self.ignores_term:
                self.state[name] = "gone"
            return 0, ""
        assert script == job_services._PROBE
        log, offset, most = self.logs.get(name, b""), int(args[1]), int(args[2])
        chunk = log[offset : offset + most]
        return 0, f"{self.state[name]} {len(log)} {len(chunk)}\n{chunk.decode()}"

    def end(self, container: str, *, exit_code: int, log: bytes = b"") -> None:
        self.state[container], self.logs[container] = f"exit:{exit_code}", log


_ENGINES: dict[str, FakeEngine] = {}


def fake_engine(url: str) -> FakeEngine:
    """The engine behind a fake:// URL; the same object for the same URL."""
    return _ENGINES.setdefault(url, FakeEngine(name=url.removeprefix(f"{SCHEME}://")))


def fake_engine_install(url: str, engine: FakeEngine) -> FakeEngine:
    """Put `engine` (a slow, failing, never-ready one) behind the fake:// URL of a host."""
    _ENGINES[url] = engine
    return engine


def fake_engines_reset() -> None:
    _ENGINES.clear()


def fake_engines_register() -> None:
    register_driver(SCHEME, lambda host, *, timeout: fake_engine(host.url))
