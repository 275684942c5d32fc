"""The services the portal starts listen on loopback only: the Celery broker (Redis), the
database and the image registry hold no authentication worth the name against a node or a
neighbour on the network."""

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def listening() -> dict[int, set[str]]:
    """Every listening TCP socket of this network namespace: port -> addresses."""
    sockets: dict[int, set[str]] = {}
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state != LISTEN:
                continue
            address_hex, port_hex = local.split(":")
            raw = bytes.fromhex(address_hex)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            sockets.setdefault(int(port_hex, 16), set()).add(socket.inet_ntop(family, raw))
    return sockets


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


def service_ports() -> dict[str, int]:
    broker = urlsplit(settings.CELERY_BROKER_URL)
    database = settings.DATABASES["default"]
    return {
        "Celery broker (Redis)": broker.port or 6379,
        "PostgreSQL": int(database["PORT"]),
        "image registry": int(settings.IMAGE_REGISTRY.rsplit(":", 1)[1]),
    }


def test_broker_database_and_registry_listen_on_loopback_only():
    sockets = listening()
    for service, port in service_ports().items():
        assert port in sockets, f"{service} does not listen on {port}: is it running?"
        exposed = sorted(a for a in sockets[port] if not is_loopback(a))
        assert not exposed, f"{service} listens on {exposed} (port {port}), not only on loopback"


def test_the_local_docker_engine_has_no_tcp_socket():
    """The local engine's API is root on this machine: reachable through its unix socket only."""
    assert settings.DOCKER_DEFAULT_URL.startswith("unix://")
    sockets = listening()
    assert not ({2375, 2376} & set(sockets)), {p: sockets[p] for p in {2375, 2376} & set(sockets)}


def test_the_reader_sees_through_wildcards():
    """The parser itself: a socket bound to every address is reported as such."""
    probe = socket.socket()
    probe.bind(("0.0.0.0", 0))  # noqa: S104 - bound here to check the reader sees it
    probe.listen()
    try:
        assert listening()[probe.getsockname()[1]] == {"0.0.0.0"}  # noqa: S104
    finally:
        probe.close()
