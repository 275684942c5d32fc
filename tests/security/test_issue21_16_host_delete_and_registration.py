"""Issue 21, item 16: hosts could only be disabled, never deleted, and registering one held a
web thread while the engine was asked for its inventory (up to 10 s, for an engine that hangs)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from provisioning.models import Host, Node, NodeStatus
from tenants.models import AuditEvent, User
from tests.resilience.conftest import wait_until
from tests.security.silent_engine import SilentEngine


@pytest.fixture
def admin_api(db):
    admin = User.objects.create_user(username="root", password="not-used-here", is_site_admin=True)
    client = APIClient()
    client.force_authenticate(admin)
    return client


def test_registration_answers_before_a_hanging_engine_does(admin_api, tmp_path):
    with SilentEngine(tmp_path) as engine:
        answer = admin_api.post("/api/v1/hosts/", {"name": "slow", "url": engine.url}, format="json")

        assert answer.status_code == 202, answer.json()
        assert answer.json()["state"] == "pending"
        assert Host.objects.get(name="slow").state == Host.State.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_the_inventory_of_a_new_host(celery_worker_process, tmp_path):
    client = APIClient()
    client.force_authenticate(User.objects.create_user(username="root", is_site_admin=True))

    answer = client.post(
        "/api/v1/hosts/", {"name": "local", "url": "unix:///var/run/docker.sock"}, format="json"
    )

    assert answer.status_code == 202, answer.json()
    host = wait_until(
        lambda: Host.objects.exclude(state=Host.State.PENDING).filter(name="local").first(),
        seconds=60,
        what="the worker's inventory",
    )
    assert host.state == Host.State.READY
    assert host.cpus > 0 and host.memory_mib > 0 and host.engine_id


def test_a_host_with_live_nodes_is_not_deleted_and_the_answer_names_them(world):
    client = APIClient()
    client.force_authenticate(world.root)

    answer = client.delete(f"/api/v1/hosts/{world.host.pk}/")

    assert answer.status_code == 409, answer.json()
    assert answer.json()["code"] == "host_in_use"
    node = Node.objects.get(host=world.host)
    assert answer.json()["nodes"] == [str(node)]
    assert str(node) in answer.json()["detail"]
    assert Host.objects.filter(pk=world.host.pk).exists()


def test_a_host_whose_nodes_are_deleted_is_deleted_and_audited(world):
    client = APIClient()
    client.force_authenticate(world.root)
    node = Node.objects.get(host=world.host)
    Node.objects.filter(pk=node.pk).update(status=NodeStatus.DELETED)

    answer = client.delete(f"/api/v1/hosts/{world.host.pk}/")

    assert answer.status_code == 204
    assert not Host.objects.filter(pk=world.host.pk).exists()
    assert Node.objects.get(pk=node.pk).host is None  # the node's history stays
    assert AuditEvent.objects.filter(action="host.delete", object_id=str(world.host.pk)).exists()


def test_the_hosts_page_deletes_a_host_and_explains_a_refusal(client, world):
    client.force_login(world.root)
    empty = Host.objects.create(name="spare", url="unix:///nowhere.sock")

    listing = client.get(reverse("host-list")).content.decode()
    assert reverse("host-delete", args=[empty.pk]) in listing
    assert reverse("host-delete", args=[world.host.pk]) not in listing  # it holds a running node

    refused = client.post(reverse("host-delete", args=[world.host.pk]), follow=True).content.decode()
    assert "still holds 1 node(s)" in refused
    done = client.post(reverse("host-delete", args=[empty.pk]), follow=True).content.decode()
    assert "Host spare deleted." in done
    assert list(Host.objects.values_list("name", flat=True)) == ["fake-1"]
