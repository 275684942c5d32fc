"""A sandbox too big for one host spans the engines of a Docker swarm: two engines in network
namespaces (deploy/netns_host.sh) form the swarm, the nodes join an attachable overlay network
made through the manager, and still find each other by name."""

import copy
import subprocess
from pathlib import Path

import docker
import pytest
from django.conf import settings

from catalog.models import CatalogItem
from provisioning.models import Host, Sandbox
from provisioning.naming import sandbox_prefix
from provisioning.services.hosts import host_inventory_refresh, host_register
from tests.notebooks.browser import wait_for
from tests.provisioning.conftest import leftovers, wait_for_status
from tests.provisioning.test_multihost import _pems

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(settings.BASE_DIR) / "deploy" / "netns_host.sh"
MANAGER, WORKER = ("sw1", 21), ("sw2", 22)
NOTHING = {"containers": [], "networks": [], "volumes": []}


def _script(*args) -> str:
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def swarm_engines():
    urls = {name: _script("up", name, index) for name, index in (MANAGER, WORKER)}
    _script("swarm", *MANAGER)
    _script("swarm", *WORKER, *MANAGER)
    clients = {name: docker.DockerClient(f"unix:///run/portal-hosts/{name}/docker.sock") for name in urls}
    yield urls, clients
    for client in clients.values():
        client.close()
    for name, index in (WORKER, MANAGER):
        _script("down", name, index)


@pytest.fixture
def cluster_item(published):
    """python-minimal with a worker role: a small cluster image (the same image, retagged)."""
    published("python-minimal")
    base = CatalogItem.objects.get(slug="python-minimal")
    manifest = copy.deepcopy(base.manifest)
    manifest["slug"] = "python-cluster"
    manifest["roles"]["worker"] = {
        **manifest["roles"]["head"],
        "min_nodes": 0,
        "max_nodes": 4,
        "default_nodes": 1,
    }
    client = docker.from_env(version="1.41")
    image = client.images.get(base.image)
    repository = f"{settings.IMAGE_REGISTRY}/python-cluster"
    image.tag(repository, tag=base.version)
    client.images.push(repository, tag=base.version)
    return CatalogItem.objects.create(
        slug="python-cluster",
        name="Python cluster",
        version=base.version,
        category=base.category,
        default_flavor=base.default_flavor,
        manifest=manifest,
    )


def test_a_cluster_spans_the_swarm_and_its_nodes_talk_by_name(
    team, swarm_engines, cluster_item, celery_worker_process, settings, django_user_model
):
    urls, clients = swarm_engines
    _tenant, _user, api = team
    admin = django_user_model.objects.create_user(username="root-admin", is_site_admin=True)
    for name, _index in (MANAGER, WORKER):
        # The inventory a worker takes after registration, taken here.
        host = host_inventory_refresh(
            host=host_register(actor=admin, name=name, url=urls[name], labels={"zone": "swarm"}, **_pems())
        )
        assert host.state == Host.State.READY, host.explanation
    manager, worker = Host.objects.get(name=MANAGER[0]), Host.objects.get(name=WORKER[0])
    assert manager.swarm and manager.swarm == worker.swarm
    assert manager.swarm_manager and not worker.swarm_manager
    # Two allocatable cores per engine: three one-core nodes fit on no single one of them.
    settings.CPU_OVERCOMMIT = "1"

    created = api.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "spread",
            "catalog_item": "python-cluster",
            "flavor": "small",
            "nodes": {"worker": 2},
            "host_labels": {"zone": "swarm"},
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    body = wait_for_status(api, sandbox_id, {"running"})
    hosts = {n["name"]: n["host"] for n in body["nodes"]}
    assert set(hosts.values()) == {MANAGER[0], WORKER[0]}
    assert Sandbox.objects.get(pk=sandbox_id).swarm == manager.swarm

    # From a node on one engine, the head on the other answers by name on the overlay.
    far_node = next(name for name, host in hosts.items() if host != hosts["head-0"])
    container = clients[hosts[far_node]].containers.get(f"{sandbox_prefix(sandbox_id)}-{far_node}")
    probe = "import socket; print(socket.create_connection(('head-0', 2222), timeout=5).recv(7).decode())"
    result = container.exec_run(["python3", "-c", probe])
    assert result.exit_code == 0 and result.output.decode().strip() == "SSH-2.0", result.output

    assert api.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(api, sandbox_id, {"deleted"})
    # The manager removes the overlay network at once; an engine that only joined it drops its
    # own copy when swarm's gossip tells it, a moment later, under load some seconds.
    for client in clients.values():
        wait_for(lambda c=client: leftovers(c, sandbox_id) == NOTHING, seconds=60, what="nothing left")
