"""A Docker engine restarted under running sandboxes and under a create in flight. The engine is
one of the test's own (deploy/netns_host.sh, its own namespace, TLS), so the machine's engine
and whatever else runs on it are not disturbed."""

import os
import signal
import subprocess
from pathlib import Path

import docker
import pytest
from django.conf import settings

from provisioning.models import Host, Operation, Sandbox, SandboxStatus
from provisioning.services.hosts import host_inventory_refresh, host_register
from provisioning.services.reconciler import host_reconcile
from tenants.models import Allocation
from tests.resilience.conftest import assert_recovered, settle, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "deploy" / "netns_host.sh"
TLS = Path("/var/lib/portal/hosts/tls")
NAME, INDEX = "secfault", 3  # test_multihost uses 1 and 2
PIDFILE = Path(f"/run/portal-hosts/{NAME}/dockerd.pid")
LABELS = {"fault": "engine-restart"}


def engine_up() -> str:
    return subprocess.run(
        ["bash", str(SCRIPT), "up", NAME, str(INDEX)], check=True, capture_output=True, text=True
    ).stdout.strip()


def engine_kill() -> None:
    """Stop the engine the way a crash or an upgrade does; without live-restore its
    containers stop with it."""
    pid = int(PIDFILE.read_text())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), seconds=60, what="dockerd to exit")


@pytest.fixture
def fault_engine(team, django_user_model):
    url = engine_up()
    client = docker.DockerClient(f"unix:///run/portal-hosts/{NAME}/docker.sock")
    admin = django_user_model.objects.create_user(username="fault-admin", is_site_admin=True)
    # The inventory a worker takes after registration, taken here.
    host = host_inventory_refresh(
        host=host_register(
            actor=admin,
            name=NAME,
            url=url,
            labels=LABELS,
            tls_ca_cert=(TLS / "ca.pem").read_text(),
            tls_client_cert=(TLS / "client-cert.pem").read_text(),
            tls_client_key=(TLS / "client-key.pem").read_text(),
        )
    )
    assert host.state == Host.State.READY, host.explanation
    yield host, client
    client.close()
    subprocess.run(["bash", str(SCRIPT), "down", NAME, str(INDEX)], check=True, capture_output=True)


def create(client, name: str) -> int:
    response = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": name,
            "catalog_item": "python-minimal",
            "flavor": "small",
            "host_labels": LABELS,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_engine_restart_with_sandboxes_running_and_one_being_created(
    team, published, celery_worker_process, fault_engine, docker_client
):
    tenant, _user, client = team
    host, engine = fault_engine
    published("python-minimal")
    running = [create(client, "steady-1"), create(client, "steady-2")]
    settle(running)
    assert set(Sandbox.objects.filter(pk__in=running).values_list("status", flat=True)) == {"running"}

    in_flight = create(client, "in-flight")
    wait_until(
        lambda: Operation.objects.filter(sandbox_id=in_flight, attempts__gte=1).exists(),
        what="a worker to take the create",
    )
    engine_kill()

    # While it is down: its nodes are unknown, their quota kept; no new sandbox goes there.
    drift = host_reconcile(host=Host.objects.get(pk=host.pk))
    assert drift["unknown"] >= 2
    assert Host.objects.get(pk=host.pk).state == Host.State.UNREACHABLE
    for sandbox in Sandbox.objects.filter(pk__in=running):
        assert sandbox.status == SandboxStatus.UNKNOWN and NAME in sandbox.explanation
    held = Allocation.objects.filter(tenant=tenant, ended__isnull=True).count()
    # No host with these labels answers now, but it may come back: the launch waits in the
    # queue, holding its quota; cancelling it gives everything back.
    waiting = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "nowhere",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "host_labels": LABELS,
        },
        format="json",
    )
    assert waiting.status_code == 202 and waiting.json()["status"] == "queued", waiting.json()
    assert client.delete(f"/api/v1/sandboxes/{waiting.json()['id']}/").status_code == 202
    assert Allocation.objects.filter(tenant=tenant, ended__isnull=True).count() == held

    engine_up()
    # The reconciler finds the stopped containers and starts them again.
    drift = host_reconcile(host=Host.objects.get(pk=host.pk))
    assert Host.objects.get(pk=host.pk).state == Host.State.READY
    assert drift["restarted"] >= 2, drift

    def running_again():
        host_reconcile(host=Host.objects.get(pk=host.pk))
        statuses = set(Sandbox.objects.filter(pk__in=running).values_list("status", flat=True))
        return statuses == {"running"}

    wait_until(running_again, seconds=120, every=1, what="the running sandboxes to run again")
    settle([*running, in_flight])
    assert_recovered([*running, in_flight], [engine, docker_client], tenant)

    ids = [*running, in_flight]
    for sandbox_id in ids:
        assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    sandboxes = settle(ids)
    assert {s.status for s in sandboxes.values()} == {"deleted"}
    host_reconcile(host=Host.objects.get(pk=host.pk))
    assert_recovered(ids, [engine, docker_client], tenant)
