"""The warm pool on the real local engine, with the real worker, gateway (nginx) and Chromium: a
jupyter-pytorch launch claims the pooled node (its Jupyter warmed first), SSH takes the
sandbox's key and knows the sandbox, JupyterLab answers through the gateway with the user's
sign-on, the pool refills, and deleting the sandbox (then emptying the pool) leaves nothing
behind."""

from decimal import Decimal

import pytest
import requests
from django.conf import settings

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers.docker import SITE_LABEL
from provisioning.models import PoolNode, Sandbox, SandboxStatus
from provisioning.services.pools import pool_set
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from provisioning.sshkeys import ssh_public_key
from provisioning.states import PoolNodeStatus
from tenants.models import Membership, Tenant, User
from tests.browser.fixtures import login
from tests.gateway.test_gateway_browser import gateway  # noqa: F401 - the portal's gateway (nginx)
from tests.notebooks.browser import wait_for
from tests.provisioning.conftest import leftovers

pytestmark = pytest.mark.django_db(transaction=True)

ITEM, FLAVOR = "jupyter-pytorch", "medium"
PASSWORD = "pool test"  # noqa: S105 - a test user
LAB_TIMEOUT_MS = 120_000
P = PoolNodeStatus


def _ready_pool_nodes() -> list[PoolNode]:
    return list(PoolNode.objects.filter(status=P.READY).order_by("pk"))


def _pool_objects(docker_client) -> dict:
    api = docker_client.api
    labels = {"label": [f"{LABEL_PREFIX}.pool", f"{SITE_LABEL}={settings.SITE}"]}
    return {
        "containers": sorted(c["Names"][0].lstrip("/") for c in api.containers(all=True, filters=labels)),
        "networks": sorted(n["Name"] for n in api.networks(filters=labels)),
        "volumes": sorted(v["Name"] for v in api.volumes(filters=labels).get("Volumes") or []),
    }


def _direct() -> requests.Session:
    """To a container's address on this machine: never through a proxy of the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


def _exec(docker_client, container: str, command: list[str]) -> str:
    """The command's output, run as the node's user; fails the test unless it exits 0."""
    api = docker_client.api
    exec_id = api.exec_create(container, command, user="1000:1000")["Id"]
    output = api.exec_start(exec_id).decode()
    assert api.exec_inspect(exec_id)["ExitCode"] == 0, output
    return output


def test_a_launch_claims_a_warm_jupyter_and_the_pool_refills(
    transactional_db,
    local_host,
    published,
    celery_worker_process,
    docker_client,
    gateway,  # noqa: F811 - the fixture imported above
    new_page,
):
    published(ITEM)
    admin = User.objects.create_user(username="root", password=PASSWORD, is_site_admin=True)
    lab = Tenant.objects.create(
        slug="lab", name="Lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100
    )
    grace = User.objects.create_user(username="grace", password=PASSWORD)
    Membership.objects.create(user=grace, tenant=lab)

    pool_set(actor=admin, catalog_item=ITEM, flavor=FLAVOR, size=1)  # the worker fills it
    wait_for(lambda: len(_ready_pool_nodes()) == 1, what="a ready pooled node")
    (warm,) = _ready_pool_nodes()
    before = docker_client.api.inspect_container(warm.container_name)
    # Its Jupyter was asked for JupyterLab's first-load requests before it counted as ready:
    # Jupyter's last activity moves only on requests with its token, and none but the pool's
    # warm-up has it before a claim.
    ip = next(iter(before["NetworkSettings"]["Networks"].values()))["IPAddress"]
    status = _direct().get(
        f"http://{ip}:8888{warm.gateway_prefix}jupyter/api/status",
        headers={"Authorization": f"token {warm.secret}"},
        timeout=10,
    )
    assert status.json()["last_activity"] > status.json()["started"]
    assert not any(k.endswith((".tenant", ".sandbox")) for k in before["Config"]["Labels"])
    assert before["HostConfig"]["CapDrop"] == ["ALL"] and not before["HostConfig"]["Privileged"]

    sandbox = sandbox_create(owner=grace, tenant=lab, name="warm", catalog_item=ITEM, flavor=FLAVOR)
    try:
        wait_for(
            lambda: Sandbox.objects.get(pk=sandbox.pk).status in (SandboxStatus.RUNNING, SandboxStatus.ERROR),
            what="the sandbox to run",
        )
        sandbox.refresh_from_db()
        assert sandbox.status == SandboxStatus.RUNNING, sandbox.explanation
        warm.refresh_from_db()
        head = sandbox.nodes.get()
        assert warm.status == P.ADOPTED and warm.node == head
        assert sandbox.workspace_volume == warm.workspace_volume
        operation = sandbox.operations.get()
        print(
            "\nwarm launch phases:",
            [(m["phase"], m["at"][11:23]) for m in operation.phases],
            operation.finished,
        )

        # The very container that was warm, now the node: its name, its network and alias.
        container = docker_client.api.inspect_container(head.container_name)
        assert container["Id"] == before["Id"]
        networks = container["NetworkSettings"]["Networks"]
        assert set(networks) == {sandbox.network_name}
        assert "head-0" in networks[sandbox.network_name]["Aliases"]

        # SSH as in a node started cold: the sandbox's key lets its user in, and the session
        # knows whose node it is (the image's entrypoint set up the pooled node's at its start).
        sandbox.refresh_from_db()
        keys = _exec(docker_client, head.container_name, ["cat", "/home/scientist/.ssh/authorized_keys"])
        assert keys.strip() == ssh_public_key(sandbox.ssh_private_key, comment=f"sandbox-{sandbox.pk}")
        session = _exec(
            docker_client,
            head.container_name,
            ["ssh", "-o", "BatchMode=yes", "head-0", 'echo "$SANDBOX_ID|$SANDBOX_NAME|$SANDBOX_NODE"'],
        )
        assert session.strip() == f"{sandbox.pk}|warm|head-0"

        # JupyterLab through the gateway, with grace's sign-on.
        page = new_page()
        login(page, username="grace", password=PASSWORD)
        lab_page = page.context.new_page()
        lab_page.goto(f"{gateway.url}/gateway/{head.gateway_key}/jupyter/lab")
        lab_page.locator(".jp-LauncherCard").first.wait_for(timeout=LAB_TIMEOUT_MS)

        # The claim asked for a refill.
        wait_for(
            lambda: [p.pk for p in _ready_pool_nodes()] not in ([], [warm.pk]), what="the pool to refill"
        )
        (refill,) = _ready_pool_nodes()
        assert refill.pk != warm.pk and refill.gateway_key != head.gateway_key
        # The pass that refilled removed the network the node left (not the launch: its path
        # skips the engine's 0.2 s of removing a network).
        assert not docker_client.api.networks(names=[warm.network_name])
    finally:
        sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=grace)
        wait_for(
            lambda: Sandbox.objects.get(pk=sandbox.pk).status == SandboxStatus.DELETED, what="the deletion"
        )

    assert leftovers(docker_client, sandbox.pk) == {"containers": [], "networks": [], "volumes": []}
    objects = _pool_objects(docker_client)
    assert objects == {
        "containers": [refill.container_name],  # only the refill: the claimed one went with its sandbox
        "networks": [refill.network_name],
        "volumes": [refill.workspace_volume],
    }

    pool_set(actor=admin, catalog_item=ITEM, flavor=FLAVOR, size=0)
    wait_for(lambda: _pool_objects(docker_client)["containers"] == [], what="the pool to empty")
    wait_for(
        lambda: _pool_objects(docker_client) == {"containers": [], "networks": [], "volumes": []},
        what="the pool's networks and volumes to go",
    )
