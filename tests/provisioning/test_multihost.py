"""Several Docker hosts: the local engine plus two engines in network namespaces of their own
(deploy/netns_host.sh), reached over TCP with TLS client certificates as remote hosts are."""

import subprocess
from pathlib import Path

import docker
import pytest
from django.conf import settings

from provisioning.errors import InvalidRequest
from provisioning.models import Host, NodeStatus, Sandbox, SandboxStatus
from provisioning.services.hosts import host_inventory_refresh, host_register
from provisioning.services.reconciler import host_reconcile
from tenants.models import Allocation
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "deploy" / "netns_host.sh"
TLS = Path("/var/lib/portal/hosts/tls")
ENGINES = {"h1": 1, "h2": 2}
NOTHING = {"containers": [], "networks": [], "volumes": []}


@pytest.fixture(scope="session")
def netns_engines():
    """Two more engines, started once for the session and stopped at its end (their image
    caches are kept, so a later run starts in about a second)."""
    urls = {}
    for name, index in ENGINES.items():
        urls[name] = subprocess.run(
            ["bash", str(SCRIPT), "up", name, str(index)], check=True, capture_output=True, text=True
        ).stdout.strip()
    clients = {name: docker.DockerClient(f"unix:///run/portal-hosts/{name}/docker.sock") for name in ENGINES}
    yield urls, clients
    for client in clients.values():
        client.close()
    for name, index in ENGINES.items():
        subprocess.run(["bash", str(SCRIPT), "down", name, str(index)], check=True, capture_output=True)


def _pems(**overrides) -> dict:
    pems = {
        "tls_ca_cert": (TLS / "ca.pem").read_text(),
        "tls_client_cert": (TLS / "client-cert.pem").read_text(),
        "tls_client_key": (TLS / "client-key.pem").read_text(),
    }
    return {**pems, **overrides}


@pytest.fixture
def three_hosts(team, netns_engines, django_user_model):
    urls, clients = netns_engines
    admin = django_user_model.objects.create_user(username="root-admin", is_site_admin=True)
    Host.objects.filter(name="local").update(labels={"zone": "a"})
    for zone, name in (("b", "h1"), ("c", "h2")):
        # The inventory a worker takes after registration, taken here.
        host = host_inventory_refresh(
            host=host_register(actor=admin, name=name, url=urls[name], labels={"zone": zone}, **_pems())
        )
        assert host.state == Host.State.READY, host.explanation
    return {"local": docker.from_env(version="1.41"), **clients}


def _create(client, name: str, **extra):
    return client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": name, "catalog_item": "python-minimal", "flavor": "small", **extra},
        format="json",
    )


def _delete_all(client, ids):
    for sandbox_id in ids:
        client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    for sandbox_id in ids:
        wait_for_status(client, sandbox_id, {"deleted"})


@pytest.fixture
def api(team):
    return team[2]


def test_nodes_land_on_the_labelled_engine_and_leave_nothing(
    three_hosts, api, published, celery_worker_process
):
    published("python-minimal")
    ids = {}
    for zone, host in (("a", "local"), ("b", "h1"), ("c", "h2")):
        response = _create(api, f"in-{zone}", host_labels={"zone": zone})
        assert response.status_code == 202, response.json()
        ids[host] = response.json()["id"]
    for host, sandbox_id in ids.items():
        body = wait_for_status(api, sandbox_id, {"running"})
        assert [(n["host"], n["status"]) for n in body["nodes"]] == [(host, "running")]
        # The container really runs on that engine, and on no other.
        for engine_name, engine in three_hosts.items():
            assert bool(leftovers(engine, sandbox_id)["containers"]) == (engine_name == host)

    _delete_all(api, ids.values())
    for engine in three_hosts.values():
        for sandbox_id in ids.values():
            assert leftovers(engine, sandbox_id) == NOTHING


def test_a_label_no_ready_host_has_is_refused_at_once(three_hosts, api, published):
    published("python-minimal")
    response = _create(api, "nowhere", host_labels={"zone": "z"})
    assert response.status_code == 409
    assert "zone=z" in response.json()["detail"]
    assert not Sandbox.objects.exists()
    assert not Allocation.objects.exists()


def test_a_drained_host_keeps_its_nodes_and_takes_no_new_ones(
    three_hosts, api, published, celery_worker_process, django_user_model
):
    published("python-minimal")
    admin = django_user_model.objects.get(username="root-admin")
    admin_client = type(api)()
    admin_client.force_authenticate(admin)
    first = _create(api, "before", host_labels={"zone": "b"}).json()["id"]
    wait_for_status(api, first, {"running"})

    h1 = Host.objects.get(name="h1")
    drained = admin_client.patch(f"/api/v1/hosts/{h1.pk}/", {"state": "draining"}, format="json")
    assert drained.status_code == 200 and drained.json()["state"] == "draining"
    # No ready host has zone=b now, but the drained one may come back: the launch waits.
    waiting = _create(api, "after", host_labels={"zone": "b"})
    assert waiting.status_code == 202 and waiting.json()["status"] == "queued"
    assert api.delete(f"/api/v1/sandboxes/{waiting.json()['id']}/").status_code == 202

    assert host_reconcile(host=Host.objects.get(name="h1"))["orphans_removed"] == 0
    assert Sandbox.objects.get(pk=first).status == SandboxStatus.RUNNING
    assert leftovers(three_hosts["h1"], first)["containers"]
    assert (
        admin_client.patch(f"/api/v1/hosts/{h1.pk}/", {"state": "unreachable"}, format="json").status_code
        == 400
    )
    assert api.patch(f"/api/v1/hosts/{h1.pk}/", {"state": "ready"}, format="json").status_code == 403
    _delete_all(api, [first])


def test_an_unreachable_host_makes_nodes_unknown_then_recovers(
    three_hosts, api, published, celery_worker_process
):
    published("python-minimal")
    sandbox_id = _create(api, "far", host_labels={"zone": "c"}).json()["id"]
    wait_for_status(api, sandbox_id, {"running"})
    held = Allocation.objects.filter(group=f"sandbox/{sandbox_id}", ended__isnull=True).count()

    # The engine's address stops answering (connections refused), as a host that went away.
    cut = [
        "OUTPUT",
        "-d",
        f"10.231.{ENGINES['h2']}.2",
        "-p",
        "tcp",
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
    ]
    subprocess.run(["iptables", "-I", *cut], check=True)
    try:
        drift = host_reconcile(host=Host.objects.get(name="h2"))
        assert drift["unknown"] == 1
        assert Host.objects.get(name="h2").state == Host.State.UNREACHABLE
        sandbox = Sandbox.objects.get(pk=sandbox_id)
        assert sandbox.status == SandboxStatus.UNKNOWN and "h2" in sandbox.explanation
        assert sandbox.nodes.get().status == NodeStatus.UNKNOWN
        # The containers may well still run over there: their quota stays held.
        assert Allocation.objects.filter(group=f"sandbox/{sandbox_id}", ended__isnull=True).count() == held
    finally:
        subprocess.run(["iptables", "-D", *cut], check=True)

    drift = host_reconcile(host=Host.objects.get(name="h2"))
    assert drift["recovered"] == 1
    assert Host.objects.get(name="h2").state == Host.State.READY
    assert wait_for_status(api, sandbox_id, {"running"})["nodes"][0]["status"] == "running"
    _delete_all(api, [sandbox_id])


def test_tls_is_required_and_checked(three_hosts, netns_engines, django_user_model):
    urls, _clients = netns_engines
    admin = django_user_model.objects.get(username="root-admin")
    other_ca = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
            "-keyout",
            "/dev/null",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # One engine is one host: h2's engine is registered anew, with the wrong CA.
    Host.objects.filter(name="h2").delete()
    wrong_ca = host_inventory_refresh(
        host=host_register(actor=admin, name="wrong-ca", url=urls["h2"], **_pems(tls_ca_cert=other_ca))
    )
    assert wrong_ca.state == Host.State.UNREACHABLE
    assert "certificate" in wrong_ca.explanation.lower()
    with pytest.raises(InvalidRequest) as refused:
        host_register(
            actor=admin, name="no-cert", url=urls["h1"], **_pems(tls_client_cert="", tls_client_key="")
        )
    assert set(refused.value.fields) == {"tls_client_cert", "tls_client_key"}
    assert not Host.objects.filter(name="no-cert").exists()
    good = Host.objects.get(name="h1")
    assert good.state == Host.State.READY and good.cpus > 0 and good.engine_version
