"""Issue 21, item 2: registering the machine's engine a second time (another spelling of its
socket, or another address that reaches it) destroyed every sandbox on it, as the second host's
reconciler pass took the first host's containers for orphans."""

import pytest
from rest_framework.test import APIClient

from provisioning.models import Host, Node, NodeStatus
from provisioning.services.reconciler import reconcile_all
from tenants.models import User
from tests.provisioning.conftest import wait_for_status
from tests.resilience.conftest import wait_until
from tests.security.engine_alias import EngineAlias

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_api(team):
    admin = User.objects.create_user(username="root", password="not-used-here", is_site_admin=True)
    client = APIClient()
    client.force_authenticate(admin)
    return client


@pytest.fixture
def running_sandbox(team, published, celery_worker_process):
    _tenant, _user, client = team
    published("python-minimal")
    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "precious", "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    return wait_for_status(client, created.json()["id"], {"running"})


def _containers_of(docker_client, sandbox_id) -> list[str]:
    node_names = [n.container_name for n in Node.objects.filter(sandbox_id=sandbox_id)]
    return [c.name for c in docker_client.containers.list() if c.name in node_names]


@pytest.mark.parametrize(
    "spelling", ["unix:///run/docker.sock", "unix:///var/run//docker.sock", "unix://var/run/docker.sock"]
)
def test_another_spelling_of_a_registered_socket_is_refused(admin_api, spelling):
    answer = admin_api.post("/api/v1/hosts/", {"name": "twin", "url": spelling}, format="json")

    assert answer.status_code == 400, answer.json()
    assert "Host local is this engine" in answer.json()["url"][0]
    assert list(Host.objects.values_list("name", flat=True)) == ["local"]


def test_the_same_engine_at_another_address_is_refused_and_every_sandbox_lives_on(
    admin_api, running_sandbox, docker_client, tmp_path
):
    sandbox_id = running_sandbox["id"]
    before = _containers_of(docker_client, sandbox_id)
    assert before

    with EngineAlias(tmp_path) as alias:
        answer = admin_api.post("/api/v1/hosts/", {"name": "twin", "url": alias.url}, format="json")
        assert answer.status_code == 202, answer.json()
        twin = wait_until(
            lambda: Host.objects.exclude(state=Host.State.PENDING).filter(name="twin").first(),
            seconds=60,
            what="the worker's inventory of the second host",
        )
        assert twin.state == Host.State.DISABLED
        assert "registered already, as host local" in twin.explanation

        # A twin recorded before this check existed (or forced into service) is reconciled:
        # it still leaves the other host's containers alone.
        Host.objects.filter(pk=twin.pk).update(state=Host.State.READY, engine_id="")
        reconcile_all()

    assert _containers_of(docker_client, sandbox_id) == before
    assert not Node.objects.filter(sandbox_id=sandbox_id).exclude(status=NodeStatus.RUNNING).exists()
    assert admin_api.get(f"/api/v1/sandboxes/{sandbox_id}/").json()["status"] == "running"
