"""Readiness without running anything in a node: the direct probe of a node's services, the
engine's health where the worker cannot probe, a bring-up done once, the watcher that waits for
every launch at once, and the phases each operation records."""

import socket
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.models import CatalogItem
from provisioning.models import NodeStatus, OperationPhase, OperationStatus, SandboxStatus
from provisioning.services import readiness, readiness_watch
from provisioning.services.operations import operation_advance
from provisioning.services.readiness import service_answers
from provisioning.services.readiness_watch import operations_waiting
from provisioning.services.sandboxes import sandbox_stop
from provisioning.tests.conftest import HEALTHCHECK
from provisioning.tests.doubles import FakeEngine, SlowEngine, fake_engine_install
from provisioning.tests.lifecycle import create, run

BRING_UP = ["queued", "placed", "network", "started", "ready"]


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.send_response(302)  # Jupyter's /lab without a token: an answer all the same
        self.send_header("Location", "/login")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def listener():
    """A TCP port that accepts connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_an_http_service_answers_with_any_response(http_server):
    assert service_answers(ip="127.0.0.1", port=http_server, protocol="http", path="/lab") is True


def test_a_tcp_service_answers_by_accepting(listener):
    assert service_answers(ip="127.0.0.1", port=listener, protocol="tcp") is True


def test_nothing_listening_is_not_ready_yet(closed_port):
    assert service_answers(ip="127.0.0.1", port=closed_port, protocol="tcp") is False
    assert service_answers(ip="127.0.0.1", port=closed_port, protocol="http") is False


def test_an_http_port_that_accepts_but_never_answers_is_not_ready(listener, monkeypatch):
    monkeypatch.setattr(readiness, "ANSWER_TIMEOUT_S", 0.05)
    assert service_answers(ip="127.0.0.1", port=listener, protocol="http") is False


class LocalEngine(FakeEngine):
    """An engine on this machine: the worker reaches its containers, which all sit at
    127.0.0.1, and the engine's own healthcheck has not ticked yet."""

    reaches_node_addresses = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.health = "starting"
        self.starts = 0

    def start(self, spec):
        self.starts += 1
        return super().start(spec)

    def poll(self, *, name):
        state = super().poll(name=name)
        return replace(state, ip="127.0.0.1") if state.running else state


@pytest.fixture
def notebook_item(cluster_item):
    """A one-node app whose head serves a port the test decides."""

    def make(port: int, protocol: str = "tcp", side_port: int | None = None) -> CatalogItem:
        service = {"name": "svc", "port": port, "protocol": protocol, "path": "", "main": True}
        # A side server the node is ready without (TensorBoard started after Jupyter).
        side = [
            {"name": "side", "port": side_port, "protocol": "tcp", "path": "", "main": False, "wait": False}
        ]
        head = {
            "min_nodes": 1,
            "max_nodes": 1,
            "default_nodes": 1,
            "services": [service, *(side if side_port else [])],
            "healthcheck": HEALTHCHECK,
        }
        cluster_item.manifest = {**cluster_item.manifest, "roles": {"head": head}}
        cluster_item.save()
        return cluster_item

    return make


@pytest.fixture
def local_engine(fake_host):
    return fake_engine_install(fake_host.url, LocalEngine(name=fake_host.name))


def test_a_node_whose_services_answer_is_ready_before_the_engine_says_so(
    member, tenant, notebook_item, local_engine, listener
):
    notebook_item(listener)
    sandbox, operation = create(member, tenant, nodes={})

    assert operation_advance(operation_id=operation.pk).again_in is None

    operation.refresh_from_db()
    sandbox.refresh_from_db()
    assert (operation.status, sandbox.status) == (OperationStatus.SUCCEEDED, SandboxStatus.RUNNING)
    assert local_engine.execs == {}  # learnt without running anything inside the node


def test_a_side_service_declared_not_waited_for_does_not_hold_readiness(
    member, tenant, notebook_item, local_engine, listener, closed_port
):
    notebook_item(listener, side_port=closed_port)
    sandbox, operation = create(member, tenant, nodes={})

    assert operation_advance(operation_id=operation.pk).again_in is None

    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED


def test_a_side_service_that_is_waited_for_holds_readiness(
    member, tenant, notebook_item, local_engine, listener, closed_port
):
    item = notebook_item(listener, side_port=closed_port)
    item.manifest["roles"]["head"]["services"][1]["wait"] = True
    item.save()
    sandbox, operation = create(member, tenant, nodes={})

    assert operation_advance(operation_id=operation.pk).again_in is not None
    assert sandbox.nodes.get().status == NodeStatus.STARTING


def test_a_bring_up_starts_containers_once_and_then_only_looks(
    member, tenant, notebook_item, local_engine, closed_port
):
    notebook_item(closed_port)
    sandbox, operation = create(member, tenant, nodes={})

    for _ in range(3):
        assert operation_advance(operation_id=operation.pk).again_in is not None
    assert local_engine.starts == 1
    assert sandbox.nodes.get().status == NodeStatus.STARTING
    local_engine.health = "healthy"  # the engine's own check passed meanwhile
    run(operation)

    assert operation.status == OperationStatus.SUCCEEDED
    assert local_engine.starts == 1 and local_engine.execs == {}
    assert [mark["phase"] for mark in operation.phases] == BRING_UP


def test_an_engine_the_worker_cannot_reach_says_when_a_node_is_ready(
    member, tenant, cluster_item, slow_engine
):
    sandbox, operation = create(member, tenant)

    run(operation)

    assert operation.status == OperationStatus.SUCCEEDED
    assert slow_engine.execs == {}


def test_phases_are_recorded_in_order_with_their_times(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)

    times = [mark["at"] for mark in operation.phases]
    assert [mark["phase"] for mark in operation.phases] == BRING_UP
    assert times == sorted(times)
    assert times[0] == operation.created.isoformat()

    stop = run(sandbox_stop(sandbox=sandbox, actor=member))
    assert [mark["phase"] for mark in stop.phases] == [OperationPhase.QUEUED]


def test_the_watcher_finishes_every_waiting_launch(member, tenant, cluster_item, fake_host, monkeypatch):
    monkeypatch.setattr(readiness_watch, "ENGINE_EVERY_S", 0)
    monkeypatch.setattr(readiness_watch, "PROBE_EVERY_S", 0)
    monkeypatch.setattr(readiness_watch, "HOLD_S", 10)
    engine = fake_engine_install(fake_host.url, SlowEngine(name=fake_host.name, ready_after=5))
    operations = [create(member, tenant, name=f"exp{i}", nodes={"worker": 0})[1] for i in range(2)]
    for operation in operations:
        assert operation_advance(operation_id=operation.pk).again_in is not None  # started, not ready
    assert set(operations_waiting()) == set(operations)

    assert readiness_watch.readiness_watch().again_in is None

    for operation in operations:
        operation.refresh_from_db()
        assert operation.status == OperationStatus.SUCCEEDED
        assert operation.attempts == 2  # the bring-up, then the look the watcher asked for
    assert not operations_waiting().exists()
    assert engine.execs == {}


def test_the_watcher_closes_a_launch_whose_nodes_were_all_ready_already(
    member, tenant, cluster_item, slow_engine, monkeypatch
):
    monkeypatch.setattr(readiness_watch, "HOLD_S", 10)
    sandbox, operation = create(member, tenant)
    assert operation_advance(operation_id=operation.pk).again_in is not None
    sandbox.nodes.update(status=NodeStatus.RUNNING)  # a worker's last look, cut off before it closed

    readiness_watch.readiness_watch()

    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED
