"""The Docker engine driver: the only module that speaks the Docker SDK for containers. It
translates the driver contract (a NodeSpec, made by provisioning.containers) to engine calls and
decides nothing about what a node is."""

import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import docker.errors
import requests.exceptions
from docker.tls import TLSConfig
from docker.types import DeviceRequest
from docker.types import Mount as DockerMount

from provisioning.drivers.base import (
    SECRETS_DIR,
    ContainerDriver,
    ContainerState,
    DriverError,
    EngineInfo,
    ExecState,
    HostUnreachable,
    NodeSpec,
)
from provisioning.drivers.gpus import gpu_inventory

# Every object the platform makes carries its site's name here: a portal lists and cleans up
# only its own, so two portals (or a portal and its test run) can share one engine.
SITE_LABEL = "org.sandbox-portal.site"
UNREACHABLE_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError)
SECOND_NS = 1_000_000_000
GIB = 1024**3


def _translate_errors(method):
    """Engine failures become DriverError / HostUnreachable with a message fit for a user."""

    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except DriverError:
            raise
        except docker.errors.APIError as exc:
            raise DriverError(f"Docker engine {self.name}: {exc.explanation or exc}") from exc
        except (docker.errors.DockerException, *UNREACHABLE_ERRORS) as exc:
            raise HostUnreachable(f"Docker engine {self.name} did not answer: {exc}") from exc

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class DockerDriver(ContainerDriver):
    def __init__(
        self,
        client: docker.DockerClient,
        *,
        name: str,
        site: str,
        gpu_probe=gpu_inventory,
        workspace_dir: str | None = None,
        local: bool = False,
    ):
        """`workspace_dir`: where sized volumes keep their file system images and mount points,
        on the engine's own machine; None for an engine whose files this process cannot reach
        (a remote one), where a size is not enforced."""
        self.client = client
        self.api = client.api
        self.name = name
        self.site = site
        self.gpu_probe = gpu_probe
        self.workspace_dir = Path(workspace_dir) / _safe_name(name) if workspace_dir else None
        # An engine on this machine's socket puts containers on bridges this machine routes to;
        # an engine over TCP is another machine (or namespace) whose bridge addresses may even
        # repeat ours, so a probe there could reach the wrong container.
        self.reaches_node_addresses = local

    @classmethod
    def for_host(
        cls, host, *, site: str, timeout: float = 30, workspace_dir: str | None = None
    ) -> "DockerDriver":
        tls = _tls_config(host) if host.tls_client_cert else None
        try:
            client = docker.DockerClient(base_url=host.url, tls=tls, timeout=timeout, version="1.41")
        except (docker.errors.DockerException, *UNREACHABLE_ERRORS) as exc:
            raise HostUnreachable(f"Docker engine {host.name} at {host.url} did not answer: {exc}") from exc
        # requests would otherwise let REQUESTS_CA_BUNDLE replace the host's own CA (so a
        # publicly signed impostor would pass) and send engine calls through an HTTP(S)_PROXY.
        client.api.trust_env = False
        return cls(
            client,
            name=host.name,
            site=site,
            workspace_dir=workspace_dir,
            local=host.url.startswith("unix://"),
        )

    @_translate_errors
    def ping(self) -> None:
        self.client.ping()

    @_translate_errors
    def info(self) -> EngineInfo:
        info = self.client.info()
        return EngineInfo(
            cpus=info["NCPU"],
            memory_mib=info["MemTotal"] // (1024 * 1024),
            engine_version=info.get("ServerVersion", ""),
            gpus=self.gpu_probe() if "nvidia" in info.get("Runtimes", {}) else [],
            swarm=_swarm_key(info.get("Swarm") or {}),
            swarm_manager=bool((info.get("Swarm") or {}).get("ControlAvailable")),
            engine_id=info.get("ID", ""),
        )

    @_translate_errors
    def ensure_network(self, *, name: str, labels: dict[str, str], overlay: bool = False) -> None:
        if self.client.networks.list(names=[name]):
            return
        try:
            self.api.create_network(
                name,
                driver="overlay" if overlay else "bridge",
                attachable=overlay or None,
                labels={**labels, SITE_LABEL: self.site},
                check_duplicate=True,
            )
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # a concurrent attempt made it first
                raise

    @_translate_errors
    def remove_network(self, *, name: str) -> None:
        for network in self.client.networks.list(names=[name]):
            if network.name != name:
                continue
            # The engine refuses to remove a network with endpoints: a container that only joined
            # it (connect_network: a tenant's service; its own network is another) leaves it.
            try:
                joined = self.api.inspect_network(network.id).get("Containers") or {}
            except docker.errors.NotFound:
                continue  # removed meanwhile by another worker: what was asked for
            for container_id in joined:
                self._leave_if_joined(container_id, network)
            _ignore_missing(network.remove)

    def _leave_if_joined(self, container_id: str, network) -> None:
        try:
            own = self.api.inspect_container(container_id)["HostConfig"].get("NetworkMode")
            if own not in (network.name, network.id):
                self.api.disconnect_container_from_network(container_id, network.id, force=True)
        except docker.errors.NotFound:
            return

    @_translate_errors
    def connect_network(self, *, name: str, network: str, aliases: tuple[str, ...] = ()) -> None:
        attrs = self.api.inspect_container(name)
        if network in (attrs.get("NetworkSettings", {}).get("Networks") or {}):
            return
        try:
            self.api.connect_container_to_network(name, network, aliases=list(aliases) or None)
        except docker.errors.APIError as exc:
            # 403 "already exists in network": a concurrent call attached it first.
            if exc.status_code != 403 or "already exists" not in str(exc.explanation):
                raise

    @_translate_errors
    def disconnect_network(self, *, name: str, network: str) -> None:
        try:
            self.api.disconnect_container_from_network(name, network, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if "is not connected" not in str(exc.explanation):
                raise

    @_translate_errors
    def ensure_volume(
        self,
        *,
        name: str,
        labels: dict[str, str],
        driver_opts: dict | None = None,
        size_gib: int | None = None,
    ) -> None:
        if size_gib and self.workspace_dir:
            # Docker's `local` driver cannot mount an image file itself (it hands `loop` to the
            # kernel as a file system option, which refuses it): the volume binds a loop mount
            # made here, at a path that stays the same across reboots.
            driver_opts = {"type": "none", "o": "bind", "device": str(self._sized_filesystem(name, size_gib))}
        try:
            self.client.volumes.get(name)
        except docker.errors.NotFound:
            self.client.volumes.create(
                name=name,
                driver="local",
                driver_opts=driver_opts or {},
                labels={**labels, SITE_LABEL: self.site},
            )

    @_translate_errors
    def remove_volume(self, *, name: str) -> None:
        _ignore_missing(lambda: self.api.remove_volume(name, force=True))
        if self.workspace_dir:
            self._sized_filesystem_remove(name)

    def _sized_filesystem(self, name: str, size_gib: int) -> Path:
        """An ext4 file system of `size_gib` in a sparse image file, loop-mounted at a mount
        point named for the volume; made once, mounted again when it is not (after a reboot)."""
        image, mountpoint = self._sized_paths(name)
        self.workspace_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not image.exists():
            handle, staging = tempfile.mkstemp(dir=self.workspace_dir, suffix=".new")
            os.close(handle)
            staging = Path(staging)
            try:
                os.truncate(staging, size_gib * GIB)
                _run(["mkfs.ext4", "-q", "-F", "-m", "0", str(staging)], what=f"make the {name} file system")
                staging.rename(image)  # atomic: a concurrent maker's image is as good
            finally:
                staging.unlink(missing_ok=True)
        mountpoint.mkdir(mode=0o700, exist_ok=True)
        if not os.path.ismount(mountpoint):
            _run(
                ["mount", "-o", "loop,nosuid,nodev", str(image), str(mountpoint)],
                what=f"mount the {name} file system",
            )
            # Empty, the engine fills it from the image's own directory (contents and owner) at
            # the first start, as it does a plain volume.
            with contextlib.suppress(FileNotFoundError):
                (mountpoint / "lost+found").rmdir()
        return mountpoint

    def _sized_filesystem_remove(self, name: str) -> None:
        image, mountpoint = self._sized_paths(name)
        if os.path.ismount(mountpoint):
            _run(["umount", str(mountpoint)], what=f"unmount the {name} file system")
        with contextlib.suppress(FileNotFoundError):
            mountpoint.rmdir()
        image.unlink(missing_ok=True)

    def _sized_paths(self, name: str) -> tuple[Path, Path]:
        return self.workspace_dir / f"{_safe_name(name)}.ext4", self.workspace_dir / _safe_name(name)

    @_translate_errors
    def start(self, spec: NodeSpec) -> ContainerState:
        try:
            container = self.client.containers.get(spec.name)
        except docker.errors.NotFound:
            container = self._create(spec)
        if container.status != "running":
            made_with = container.attrs["HostConfig"].get("Mounts") or []
            if {m["Target"]: m["Source"] for m in made_with if m.get("Type") == "bind"} != _spec_binds(spec):
                self.api.remove_container(container.id, force=True, v=False)
                container = self._create(spec)
            if spec.secret_files:
                self.put_secret_files(name=spec.name, files=spec.secret_files, owner=spec.user)
            container.start()
        return self.poll(name=spec.name)

    @_translate_errors
    def network_join(self, *, name: str, network: str, alias: str, leave: str = "") -> None:
        joined = (self.api.inspect_container(name).get("NetworkSettings") or {}).get("Networks") or {}
        if network not in joined:
            self.api.connect_container_to_network(name, network, aliases=[alias])
        if leave and leave in joined:
            _ignore_missing(lambda: self.api.disconnect_container_from_network(name, leave))

    @_translate_errors
    def rename(self, *, name: str, new_name: str) -> None:
        try:
            self.api.rename(name, new_name)
        except docker.errors.NotFound:
            if not self.poll(name=new_name).exists:
                raise

    @_translate_errors
    def put_secret_files(self, *, name: str, files: dict[str, str], owner: str) -> None:
        # The engine unpacks the archive into the container's own file system with the owner
        # and modes it names: nothing shows in `docker inspect`, nothing lands on this machine.
        uid, _, gid = owner.partition(":")
        parent, _, folder = SECRETS_DIR.rpartition("/")
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.addfile(_tar_entry(folder, uid=uid, gid=gid or uid, mode=0o700, directory=True))
            for file_name, content in files.items():
                data = content.encode()
                entry = _tar_entry(f"{folder}/{file_name}", uid=uid, gid=gid or uid, mode=0o600)
                entry.size = len(data)
                tar.addfile(entry, io.BytesIO(data))
        try:
            self.api.put_archive(name, parent, archive.getvalue())
        except docker.errors.NotFound as exc:
            raise DriverError(f"Docker engine {self.name}: container {name} does not exist") from exc

    def _create(self, spec: NodeSpec):
        self._ensure_image(spec.image)
        host_config = self.api.create_host_config(
            nano_cpus=spec.nano_cpus,
            mem_limit=spec.memory_bytes,
            memswap_limit=spec.memory_bytes,  # equal: no swap beyond the memory limit
            pids_limit=spec.pids_limit,
            privileged=False,
            cap_drop=["ALL"],
            cap_add=list(spec.cap_add) or None,
            security_opt=["no-new-privileges:true"],
            mounts=[
                DockerMount(target=m.target, source=m.source, type=m.kind, read_only=m.read_only)
                for m in spec.mounts
            ],
            device_requests=(
                [DeviceRequest(driver="nvidia", device_ids=list(spec.gpu_uuids), capabilities=[["gpu"]])]
                if spec.gpu_uuids
                else None
            ),
            network_mode=spec.network,
            restart_policy={"Name": "no"},  # the reconciler decides what restarts, not the engine
            log_config={"Type": "json-file", "Config": {"max-size": "10m", "max-file": "2"}},
        )
        healthcheck = None
        if spec.healthcheck:
            hc = spec.healthcheck
            # API 1.41 has no start interval: where the portal cannot probe the node itself, the
            # engine's health is how readiness is learnt, so its check runs at the brisk pace.
            interval = hc.interval_s if self.reaches_node_addresses else hc.start_interval_s
            healthcheck = {
                "test": hc.test,
                "interval": int(interval * SECOND_NS),
                "timeout": int(hc.timeout_s * SECOND_NS),
                "retries": hc.retries,
                "start_period": int(hc.start_period_s * SECOND_NS),
            }
        try:
            self.api.create_container(
                spec.image,
                command=list(spec.command) or None,
                name=spec.name,
                hostname=spec.hostname,
                user=spec.user,
                environment=spec.environment,
                labels={**spec.labels, SITE_LABEL: self.site},
                host_config=host_config,
                healthcheck=healthcheck,
                networking_config=self.api.create_networking_config(
                    {spec.network: self.api.create_endpoint_config(aliases=[spec.hostname])}
                ),
            )
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: a concurrent attempt created it; adopt that one
                raise
        return self.client.containers.get(spec.name)

    def _ensure_image(self, image: str) -> None:
        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound:
            repository, _, tag = image.rpartition(":")
            try:
                self.client.images.pull(repository, tag=tag)
            except docker.errors.APIError as exc:
                raise DriverError(
                    f"Docker engine {self.name} could not pull {image}: {exc.explanation}"
                ) from exc

    @_translate_errors
    def stop(self, *, name: str, timeout_s: int = 10) -> None:
        _ignore_missing(lambda: self.api.stop(name, timeout=timeout_s))

    @_translate_errors
    def remove(self, *, name: str) -> None:
        _ignore_missing(lambda: self.api.remove_container(name, force=True, v=False))

    @_translate_errors
    def poll(self, *, name: str) -> ContainerState:
        try:
            attrs = self.api.inspect_container(name)
        except docker.errors.NotFound:
            return ContainerState(name=name, exists=False)
        return _state_from_attrs(attrs)

    @property
    def _site_filter(self) -> str:
        return f"{SITE_LABEL}={self.site}"

    @_translate_errors
    def list_managed(self) -> list[ContainerState]:
        summaries = self.api.containers(all=True, filters={"label": self._site_filter})
        return [_state_from_summary(summary) for summary in summaries]

    @_translate_errors
    def list_managed_networks(self) -> list[str]:
        networks = self.api.networks(filters={"label": self._site_filter})
        # A swarm's overlay networks show on every engine that uses one, but only a manager may
        # remove them: elsewhere they are not this engine's to clean up.
        manager = any(n.get("Scope") == "swarm" for n in networks) and self._is_swarm_manager()
        return [n["Name"] for n in networks if n.get("Scope") != "swarm" or manager]

    def _is_swarm_manager(self) -> bool:
        return bool((self.client.info().get("Swarm") or {}).get("ControlAvailable"))

    @_translate_errors
    def list_managed_volumes(self) -> list[str]:
        volumes = self.api.volumes(filters={"label": self._site_filter}).get("Volumes") or []
        return [v["Name"] for v in volumes]

    @_translate_errors
    def image_tags(self, *, repository: str) -> list[str]:
        return sorted(
            tag.rpartition(":")[2]
            for image in self.api.images(name=repository)
            for tag in image.get("RepoTags") or []
            if tag.rpartition(":")[0] == repository
        )

    @_translate_errors
    def remove_image(self, *, ref: str) -> bool:
        try:
            self.api.remove_image(ref)
        except docker.errors.ImageNotFound:
            return True
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # a container uses it: the engine refuses, as it should
                return False
            raise
        return True

    @_translate_errors
    def logs(self, *, name: str, tail: int = 200) -> str:
        try:
            return self.api.logs(name, tail=tail, timestamps=False).decode("utf-8", "replace")
        except docker.errors.NotFound:
            return ""

    @_translate_errors
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
        try:
            created = self.api.exec_create(
                name,
                command,
                stdout=True,
                stderr=True,
                environment=environment or None,
                user=user or "",
                workdir=workdir,
            )
        except docker.errors.NotFound as exc:
            raise DriverError(f"Docker engine {self.name}: container {name} does not exist") from exc
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # the engine's word for "container is not running"
                raise DriverError(f"Docker engine {self.name}: container {name} is not running") from exc
            raise
        exec_id = created["Id"]
        if detach:
            self.api.exec_start(exec_id, detach=True)
            return self.exec_poll(exec_id=exec_id)
        output = self.api.exec_start(exec_id, detach=False, demux=False) or b""
        state = self.exec_poll(exec_id=exec_id)
        return ExecState(
            exec_id=exec_id,
            running=False,
            exit_code=state.exit_code,
            output=output.decode("utf-8", "replace"),
        )

    @_translate_errors
    def exec_poll(self, *, exec_id: str) -> ExecState:
        try:
            attrs = self.api.exec_inspect(exec_id)
        except docker.errors.NotFound:
            return ExecState(exec_id=exec_id, running=False)
        running = bool(attrs.get("Running"))
        return ExecState(
            exec_id=exec_id, running=running, exit_code=None if running else attrs.get("ExitCode")
        )


def _tar_entry(path: str, *, uid: str, gid: str, mode: int, directory: bool = False) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(path)
    entry.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    entry.uid, entry.gid, entry.mode, entry.mtime = int(uid), int(gid), mode, int(time.time())
    return entry


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "_"


def _run(command: list[str], *, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise DriverError(f"Could not {what}: {(done.stderr or done.stdout).strip()}")


def _ignore_missing(call) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        call()


def _state_from_attrs(attrs: dict) -> ContainerState:
    state = attrs["State"]
    networks = attrs.get("NetworkSettings", {}).get("Networks") or {}
    ip = next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), None)
    return ContainerState(
        name=attrs["Name"].lstrip("/"),
        exists=True,
        running=bool(state.get("Running")),
        health=(state.get("Health") or {}).get("Status", "none"),
        exit_code=None if state.get("Running") else state.get("ExitCode"),
        ip=ip,
        labels=attrs["Config"].get("Labels") or {},
        error=state.get("Error", ""),
        binds=_binds(attrs),
        image=attrs["Config"].get("Image", ""),
    )


def _spec_binds(spec: NodeSpec) -> dict[str, str]:
    return {m.target: m.source for m in spec.mounts if m.kind == "bind"}


def _binds(attrs: dict) -> dict[str, str]:
    return {m["Destination"]: m["Source"] for m in attrs.get("Mounts") or [] if m.get("Type") == "bind"}


def _state_from_summary(summary: dict) -> ContainerState:
    status = summary.get("Status", "")
    health = "none"
    for word in ("healthy", "unhealthy", "health: starting"):
        if f"({word})" in status:
            health = word.replace("health: ", "")
    return ContainerState(
        name=summary["Names"][0].lstrip("/"),
        exists=True,
        running=summary.get("State") == "running",
        health=health,
        labels=summary.get("Labels") or {},
        image=summary.get("Image", ""),
    )


def _swarm_key(swarm: dict) -> str:
    """Engines of one swarm see the same managers, whatever their own role: their ids make a key
    that every member computes alike (the cluster id itself is shown to managers only)."""
    if swarm.get("LocalNodeState") != "active":
        return ""
    managers = sorted(m["NodeID"] for m in swarm.get("RemoteManagers") or [])
    return hashlib.sha256(",".join(managers).encode()).hexdigest()[:32] if managers else ""


def _tls_config(host) -> TLSConfig:
    """docker-py wants certificate files: write the host's PEMs once into a private folder named
    by their digest, so that the reconciler's frequent connections reuse them instead of leaving
    a folder behind each time, and a certificate rotation gets a folder of its own."""
    pems = (
        ("ca.pem", host.tls_ca_cert),
        ("cert.pem", host.tls_client_cert),
        ("key.pem", host.tls_client_key),
    )
    digest = hashlib.sha256("\0".join(pem for _, pem in pems).encode()).hexdigest()[:32]
    root = Path(tempfile.gettempdir()) / f"portal-tls-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.stat().st_uid != os.getuid() or root.stat().st_mode & 0o077:
        raise DriverError(f"{root} must be private to the portal's user; remove it and retry.")
    folder = root / digest
    paths = {name: str(folder / name) for name, _ in pems}
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(dir=root))
        for name, pem in pems:
            (staging / name).write_text(pem)
            (staging / name).chmod(0o600)
        try:
            staging.rename(folder)  # atomic: a concurrent writer's folder holds the same files
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return TLSConfig(
        client_cert=(paths["cert.pem"], paths["key.pem"]),
        ca_cert=paths["ca.pem"] if host.tls_ca_cert else None,
        verify=bool(host.tls_ca_cert),
    )
