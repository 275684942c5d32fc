"""The hosts page of site admins: add (errors next to fields), drain, disable, bring back."""

import pytest
from django.urls import reverse

from provisioning.models import Host
from provisioning.services.hosts import host_inventory_take

pytestmark = pytest.mark.django_db


def test_members_and_tenant_admins_may_not_see_hosts(client, member, tenant_admin, fake_host):
    for user in (member, tenant_admin):
        client.force_login(user)
        assert client.get(reverse("host-list")).status_code == 403
        assert (
            client.post(reverse("host-state", args=[fake_host.pk]), {"state": "disabled"}).status_code == 403
        )
    fake_host.refresh_from_db()
    assert fake_host.state == Host.State.READY


def test_a_bad_host_is_explained_next_to_its_fields(client, site_admin):
    client.force_login(site_admin)

    response = client.post(reverse("host-add"), {"name": "gpu-1", "url": "http://x", "labels": "zone"})

    errors = response.context["form"].errors
    assert "unix://" in errors["url"][0]
    assert "not key=value" in errors["labels"][0]
    assert 'id="id_url_error"' in response.content.decode()
    assert not Host.objects.exists()


def test_a_taken_name_is_refused(client, site_admin, fake_host):
    client.force_login(site_admin)

    response = client.post(reverse("host-add"), {"name": "fake-1", "url": "unix:///nowhere.sock"})

    assert "exists already" in response.context["form"].errors["name"][0]


def test_an_engine_that_does_not_answer_is_added_then_shown_unreachable(client, site_admin):
    """The page answers at once with the host pending; the worker's inventory then finds the
    engine silent, and the list says so with the reason."""
    client.force_login(site_admin)

    response = client.post(
        reverse("host-add"),
        {"name": "gone", "url": "unix:///nonexistent/docker.sock", "labels": "zone=a"},
        follow=True,
    )

    host = Host.objects.get(name="gone")
    assert (host.state, host.labels) == (Host.State.PENDING, {"zone": "a"})
    assert "a worker is taking its inventory" in response.content.decode()
    host_inventory_take(host_id=host.pk)  # what the worker runs
    listing = client.get(reverse("host-list")).content.decode()
    assert Host.objects.get(name="gone").state == Host.State.UNREACHABLE
    assert "unreachable" in listing and "nonexistent/docker.sock" in listing


def test_drain_disable_and_bring_back(client, site_admin, fake_host):
    client.force_login(site_admin)

    for state in ("draining", "disabled"):
        client.post(reverse("host-state", args=[fake_host.pk]), {"state": state})
        fake_host.refresh_from_db()
        assert fake_host.state == state
    response = client.post(reverse("host-state", args=[fake_host.pk]), {"state": "unreachable"}, follow=True)
    assert "Choose ready, draining or disabled." in response.content.decode()
    fake_host.refresh_from_db()
    assert fake_host.state == Host.State.DISABLED
