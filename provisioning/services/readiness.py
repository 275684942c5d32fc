"""When a node counts as ready, learnt without running anything inside it. One definition, for
the operations that bring nodes up, the watcher that waits for them and the reconciler.

A node is ready when every service its role declares answers (Jupyter's HTTP server, sshd's
port; not a side server its manifest says not to wait for), probed from the worker where the
worker reaches the node's address; elsewhere, or for a role that declares no service, when the
engine says its healthcheck passed. Nothing is ever
run inside a node to find out: on a small machine those processes compete with the very
notebooks they wait for."""

import socket

from catalog.manifest import Service
from provisioning.drivers import ContainerDriver, ContainerState
from provisioning.models import Node

#: A node's address is on this machine's bridge: a connection is refused or accepted at once,
#: and a first answer takes milliseconds. Longer means the address is not reachable from here.
CONNECT_TIMEOUT_S = 0.5
ANSWER_TIMEOUT_S = 1.0


def service_answers(*, ip: str, port: int, protocol: str, path: str = "") -> bool | None:
    """Whether the service at ip:port answers: an HTTP service with any HTTP response (a
    redirect to a login page is an answer), a TCP service by accepting the connection. False:
    not yet (nothing listens, or no answer); None: this machine does not reach the address."""
    try:
        connection = socket.create_connection((ip, port), timeout=CONNECT_TIMEOUT_S)
    except ConnectionRefusedError:
        return False
    except OSError:  # timed out, no route: someone else's network
        return None
    with connection:
        if protocol != "http":
            return True
        connection.settimeout(ANSWER_TIMEOUT_S)
        request = f"GET {path or '/'} HTTP/1.0\r\nHost: {ip}:{port}\r\nUser-Agent: portal-readiness\r\n\r\n"
        try:
            connection.sendall(request.encode())
            head = b""
            while len(head) < 5:
                chunk = connection.recv(5 - len(head))
                if not chunk:
                    break
                head += chunk
        except OSError:
            return False
        return head == b"HTTP/"


def services_answer(*, ip: str, services: tuple[Service, ...]) -> bool | None:
    """Every service a node waits for answers (True), one does not yet (False), or the address
    cannot be probed from here (None). A service declared `wait: false` (a side server that
    starts after the main one) is not waited for."""
    for service in services:
        if not service.wait:
            continue
        answer = service_answers(ip=ip, port=service.port, protocol=service.protocol, path=service.path)
        if answer is not True:
            return answer
    return True


def node_services(node: Node) -> tuple[Service, ...]:
    return node.sandbox.catalog_item.spec.roles[node.role].services


def node_answers(*, node: Node, driver: ContainerDriver, ip: str | None = None) -> bool | None:
    """The direct probe of a running node's services; None where it cannot decide (the worker
    does not reach this engine's addresses, a swarm overlay, no service, no address yet)."""
    ip = ip or node.ip
    services = node_services(node)
    if not (driver.reaches_node_addresses and services and ip) or node.sandbox.swarm:
        return None
    return services_answer(ip=ip, services=services)


def node_ready(*, node: Node, driver: ContainerDriver, state: ContainerState) -> bool:
    """Whether the node is ready, from one look at the engine (`state`) and, where it can, a
    direct probe: the engine runs the healthcheck only every interval (calmly, once the node is
    up), so a node that answers early is not kept waiting for its next tick."""
    if not state.running or state.health == "unhealthy":
        return False
    if state.health == "healthy":
        return True
    answers = node_answers(node=node, driver=driver, ip=state.ip)
    if answers is not None:
        return answers
    return state.health == "none"  # no healthcheck and no probe: running is all there is to know
