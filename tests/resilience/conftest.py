"""What every fault test checks once the fault is over, and the faults' own services."""

import shutil
import socket
import subprocess
import time
from decimal import Decimal

import pytest
import redis

from provisioning.models import NodeStatus, Sandbox, SandboxStatus
from tenants.models import Allocation, Tenant
from tenants.selectors.usage import tenant_usage
from tests.provisioning.conftest import docker_client, leftovers, published, team  # noqa: F401 - fixtures

NOTHING = {"containers": [], "networks": [], "volumes": []}
#: A node in one of these holds its cpus and memory in the quota ledger.
HOLDS_QUOTA = {
    NodeStatus.PENDING,
    NodeStatus.STARTING,
    NodeStatus.RUNNING,
    NodeStatus.UNKNOWN,
    NodeStatus.FAILED,
}


def wait_until(predicate, *, seconds: float = 120, every: float = 0.25, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def settle(sandbox_ids, *, seconds: float = 180) -> dict[int, Sandbox]:
    """Wait until each sandbox is running, deleted or in error, and return them."""
    done = {SandboxStatus.RUNNING, SandboxStatus.DELETED, SandboxStatus.ERROR}

    def all_done():
        sandboxes = {s.pk: s for s in Sandbox.objects.filter(pk__in=sandbox_ids)}
        return sandboxes if all(s.status in done for s in sandboxes.values()) else None

    return wait_until(all_done, seconds=seconds, what=f"sandboxes {sorted(sandbox_ids)} to settle")


def assert_recovered(sandbox_ids, engines, tenant: Tenant) -> None:
    """The state every fault must end in: each sandbox running, deleted, or in error with an
    explanation; on every engine, containers of live nodes only, and nothing of a deleted
    sandbox; quota usage equal to what the live sandboxes and nodes hold."""
    for sandbox in Sandbox.objects.filter(pk__in=sandbox_ids):
        assert sandbox.status in {SandboxStatus.RUNNING, SandboxStatus.DELETED, SandboxStatus.ERROR}, (
            sandbox.pk,
            sandbox.status,
        )
        if sandbox.status == SandboxStatus.ERROR:
            assert sandbox.explanation.strip(), f"sandbox {sandbox.pk} is in error without a reason"
        live_nodes = {n.container_name for n in sandbox.nodes.exclude(status=NodeStatus.DELETED)}
        on_engines = set()
        for engine in engines:
            found = leftovers(engine, sandbox.pk)
            on_engines.update(found["containers"])
            if sandbox.status == SandboxStatus.DELETED:
                assert found == NOTHING, (sandbox.pk, found)
        assert on_engines <= live_nodes, f"orphaned containers {sorted(on_engines - live_nodes)}"
        if sandbox.status == SandboxStatus.RUNNING:
            assert on_engines == live_nodes, (sandbox.pk, sorted(live_nodes - on_engines))
            assert set(sandbox.nodes.exclude(status=NodeStatus.DELETED).values_list("status", flat=True)) == {
                NodeStatus.RUNNING
            }
    assert_ledger_matches(tenant)


def assert_ledger_matches(tenant: Tenant) -> None:
    """Usage (the sum of live allocations) is what the tenant's live sandboxes really hold,
    each sandbox slot and each node counted once."""
    live = Allocation.objects.filter(tenant=tenant, ended__isnull=True)
    subjects = list(live.values_list("subject", flat=True))
    assert len(subjects) == len(set(subjects)), "a subject holds two live allocations"
    expected = set()
    cpus, memory = Decimal("0"), 0
    for sandbox in Sandbox.objects.filter(tenant=tenant):
        nodes = [n for n in sandbox.nodes.all() if n.status in HOLDS_QUOTA]
        expected |= {n.ledger_subject for n in nodes}
        cpus += sum((n.cpus for n in nodes), Decimal("0"))
        memory += sum(n.memory_mib for n in nodes)
        if sandbox.status not in (SandboxStatus.DELETED, SandboxStatus.ERROR):
            expected.add(sandbox.ledger_group)
        elif sandbox.status == SandboxStatus.ERROR and sandbox.ledger_group in subjects:
            expected.add(sandbox.ledger_group)  # an error after a start or stop keeps the workspace
    assert set(subjects) == expected, (sorted(set(subjects) - expected), sorted(expected - set(subjects)))
    usage = tenant_usage(tenant=tenant)
    assert (usage.cpus, usage.memory_mib) == (cpus, memory)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A Redis server of the test's own on a fixed port, which the test may stop and start
    again; like a Debian Redis without persistence, a restart forgets every queued message."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, seconds=10, every=0.05, what="the private Redis")

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    yield server
    server.kill()
