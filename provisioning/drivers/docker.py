"""The Docker engine driver."""

import docker
import docker.errors
import requests.exceptions

from provisioning.drivers.base import ContainerDriver, EngineInfo, HostUnreachable

UNREACHABLE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


class DockerDriver(ContainerDriver):
    def __init__(self, client: docker.DockerClient, *, name: str):
        self.client = client
        self.name = name

    @classmethod
    def for_host(cls, host, *, timeout: float = 30) -> "DockerDriver":
        tls = None
        if host.tls_client_cert:
            tls = _tls_config(host)
        try:
            client = docker.DockerClient(base_url=host.url, tls=tls, timeout=timeout, version="auto")
        except UNREACHABLE_ERRORS as exc:
            raise HostUnreachable(f"Docker engine {host.name} at {host.url} did not answer: {exc}") from exc
        return cls(client, name=host.name)

    def ping(self) -> None:
        try:
            self.client.ping()
        except UNREACHABLE_ERRORS as exc:
            raise HostUnreachable(f"Docker engine {self.name} did not answer: {exc}") from exc

    def info(self) -> EngineInfo:
        try:
            info = self.client.info()
        except UNREACHABLE_ERRORS as exc:
            raise HostUnreachable(f"Docker engine {self.name} did not answer: {exc}") from exc
        return EngineInfo(
            cpus=info["NCPU"],
            memory_mib=info["MemTotal"] // (1024 * 1024),
            engine_version=info.get("ServerVersion", ""),
        )


def _tls_config(host):
    """docker-py wants certificate files; write the host's PEMs to a private temp dir."""
    import tempfile
    from pathlib import Path

    from docker.tls import TLSConfig

    folder = Path(tempfile.mkdtemp(prefix=f"portal-tls-{host.pk}-"))
    paths = {}
    for name, pem in (
        ("ca.pem", host.tls_ca_cert),
        ("cert.pem", host.tls_client_cert),
        ("key.pem", host.tls_client_key),
    ):
        path = folder / name
        path.write_text(pem)
        path.chmod(0o600)
        paths[name] = str(path)
    return TLSConfig(
        client_cert=(paths["cert.pem"], paths["key.pem"]),
        ca_cert=paths["ca.pem"] if host.tls_ca_cert else None,
        verify=bool(host.tls_ca_cert),
    )
