"""The contract between the platform and a container backend, in the spirit of JupyterHub's
Spawner: small, synchronous and idempotent, so that a Celery task can retry any step and adopt
whatever an interrupted attempt left behind (objects are found by name)."""

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
    swarm: str = ""  # the same for every engine of one Docker swarm, empty outside one
    swarm_manager: bool = False
    engine_id: str = ""  # the engine's own ID, the same whatever URL reaches it


@dataclass(frozen=True)
class Mount:
    source: str  # a volume name, or a host path for kind "bind"
    target: str
    kind: str = "volume"  # volume | bind
    read_only: bool = False


@dataclass(frozen=True)
class HealthCheck:
    """The engine's own check of a node, as Docker 25+ runs it: every `start_interval_s` during
    `start_period_s`, every `interval_s` after. The portal learns readiness by probing the node
    itself where it can (ContainerDriver.reaches_node_addresses), so `interval_s` is calm: the
    engine's check then only serves the reconciler."""

    test: list[str]
    interval_s: float = 30
    timeout_s: float = 5
    retries: int = 30
    start_period_s: float = 60
    start_interval_s: float = 2


#: Where put_secret_files writes, in every node; the catalog images read their secrets there.
SECRETS_DIR = "/run/sandbox-secrets"


@dataclass(frozen=True)
class NodeSpec:
    """Everything needed to run one node, as provisioning.containers decides it; a driver only
    translates it. Hardening is not optional, so its fixed part is not a field: every driver runs
    a node unprivileged, with every capability dropped but `cap_add`, without gaining privileges
    (setuid, file capabilities), with no swap beyond `memory_bytes`, and never restarts it on its
    own (the reconciler decides what runs)."""

    name: str
    hostname: str
    image: str
    network: str
    user: str
    labels: dict[str, str]
    environment: dict[str, str]
    nano_cpus: int
    memory_bytes: int
    pids_limit: int = 1024
    gpu_uuids: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    healthcheck: HealthCheck | None = None
    # File name -> content, written into SECRETS_DIR before the container starts and readable by
    # the node's user only: secrets never go into `environment` (every process of the node, and
    # `docker inspect`, would see them).
    secret_files: dict[str, str] = field(default_factory=dict)
    # Arguments to the image's entrypoint; empty: the image's own command.
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerState:
    """What the engine says of one container."""

    name: str
    exists: bool
    running: bool = False
    health: str = "none"  # none | starting | healthy | unhealthy
    exit_code: int | None = None
    ip: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    error: str = ""
    #: Host paths bound into the container, by target, as the engine reports them (inspect only).
    binds: dict[str, str] = field(default_factory=dict)
    #: The image reference the container was made from (`<registry>/<slug>:<version>`).
    image: str = ""

    @property
    def ready(self) -> bool:
        return self.running and self.health in ("healthy", "none")


@dataclass(frozen=True)
class ExecState:
    """A command run inside a container: still running, or ended with an exit code."""

    exec_id: str
    running: bool
    exit_code: int | None = None
    output: str = ""  # what an attached command printed (stdout and stderr together)


class ContainerDriver(ABC):
    #: Whether the worker reaches the addresses this engine gives containers (a local engine's
    #: bridges), so that readiness is learnt by connecting to a node's services. Where it does
    #: not, readiness is the engine's health status, read with `poll`.
    reaches_node_addresses: bool = False

    @abstractmethod
    def ping(self) -> None:
        """Return when the engine answers; raise HostUnreachable otherwise."""

    @abstractmethod
    def info(self) -> EngineInfo:
        """Capacity and version of the engine."""

    @abstractmethod
    def ensure_network(self, *, name: str, labels: dict[str, str], overlay: bool = False) -> None:
        """Create the sandbox network unless it exists: a bridge of this engine, or with
        `overlay` (on a swarm manager) an attachable overlay its swarm's engines can join."""

    @abstractmethod
    def remove_network(self, *, name: str) -> None:
        """Remove the network; absent is fine. Containers that only joined it (connect_network:
        a tenant's service, whose own network is another) are disconnected first."""

    @abstractmethod
    def connect_network(self, *, name: str, network: str, aliases: tuple[str, ...] = ()) -> None:
        """Attach the running container `name` to `network` as well, where the network's other
        containers find it by `aliases`; already attached is fine."""

    @abstractmethod
    def disconnect_network(self, *, name: str, network: str) -> None:
        """Detach the container from the network; not attached, or either absent, is fine."""

    @abstractmethod
    def ensure_volume(
        self,
        *,
        name: str,
        labels: dict[str, str],
        driver_opts: dict | None = None,
        size_gib: int | None = None,
    ) -> None:
        """Create the volume unless it exists. With `size_gib`, the volume is a file system of
        that size of its own where the driver can make one (a full one answers ENOSPC inside the
        node and leaves the host's disk alone): called before every start, so it also makes
        sure that file system is still in place (after a reboot, say)."""

    @abstractmethod
    def remove_volume(self, *, name: str) -> None:
        """Remove the volume, and the file system a size gave it; absent is fine."""

    @abstractmethod
    def start(self, spec: NodeSpec) -> ContainerState:
        """Make the node's container exist and run: adopt it by name, start it if stopped,
        create it (pulling the image if missing) if absent. A stopped container whose bind
        mounts differ from the spec's is made again: its host paths are the spec's, as checked
        right before this call, never the ones an older check let through. The spec's secret
        files are put (put_secret_files) before it starts."""

    @abstractmethod
    def network_join(self, *, name: str, network: str, alias: str, leave: str = "") -> None:
        """Connect the running container `name` to `network`, reachable there as `alias`, and
        disconnect it from `leave` (a network it no longer belongs on); each step is skipped
        where already done, so a retry completes what an interrupted call began."""

    @abstractmethod
    def rename(self, *, name: str, new_name: str) -> None:
        """Give the container `name` the name `new_name` (running or not); done when no
        container `name` exists and one named `new_name` does."""

    @abstractmethod
    def put_secret_files(self, *, name: str, files: dict[str, str], owner: str) -> None:
        """Write each file into SECRETS_DIR of the container (created or running), owned by
        `owner` ("uid:gid") with mode 0600 in a 0700 directory, replacing what is there."""

    @abstractmethod
    def stop(self, *, name: str, timeout_s: int = 10) -> None:
        """Stop the container; absent or stopped is fine."""

    @abstractmethod
    def remove(self, *, name: str) -> None:
        """Remove the container; absent is fine."""

    @abstractmethod
    def poll(self, *, name: str) -> ContainerState:
        """The container's state now."""

    @abstractmethod
    def list_managed(self) -> list[ContainerState]:
        """Every container the platform made on this engine, in one listing."""

    @abstractmethod
    def list_managed_networks(self) -> list[str]:
        """Names of the networks the platform made on this engine."""

    @abstractmethod
    def list_managed_volumes(self) -> list[str]:
        """Names of the volumes the platform made on this engine."""

    @abstractmethod
    def image_tags(self, *, repository: str) -> list[str]:
        """The tags of `repository` (`<registry>/<slug>`) this engine holds, sorted."""

    @abstractmethod
    def remove_image(self, *, ref: str) -> bool:
        """Remove the image tag `ref` from this engine, unless a container uses it (any, running
        or stopped, the platform's or not: never forced). Absent is fine. Says whether it is
        gone."""

    @abstractmethod
    def logs(self, *, name: str, tail: int = 200) -> str:
        """The last lines the container printed."""

    @abstractmethod
    def exec_start(
        self,
        *,
        name: str,
        command: list[str],
        environment: dict[str, str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        detach: bool = False,
    ) -> ExecState:
        """Run a command in the running container (no shell unless the command is one).
        Attached: wait for it, return its exit code and output. Detached: return at once;
        follow it with exec_poll. Raise DriverError when the container is not running."""

    @abstractmethod
    def exec_poll(self, *, exec_id: str) -> ExecState:
        """Whether a detached command still runs, and its exit code once it ended. An id the
        engine no longer knows (its container was removed or restarted) reads as ended."""
