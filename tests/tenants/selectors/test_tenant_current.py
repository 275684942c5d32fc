"""The browser's current tenant: chosen with the switcher, kept in the session, never one the
user can no longer see."""

from django.test import Client
from django.urls import reverse

from tenants.models import Membership
from tenants.tests.factories import MembershipFactory, UserFactory


def _current(client):
    return client.get(reverse("tenants:list")).context["current"]


def test_switching_between_own_tenants(world):
    MembershipFactory(tenant=world.globex, user=world.member)
    client = Client()
    client.force_login(world.member)
    assert _current(client) == world.acme  # the first own tenant until one is chosen
    client.post(reverse("tenants:switch"), {"tenant": "globex"})
    assert _current(client) == world.globex


def test_a_tenant_left_behind_is_no_longer_current(world):
    MembershipFactory(tenant=world.globex, user=world.member)
    client = Client()
    client.force_login(world.member)
    client.post(reverse("tenants:switch"), {"tenant": "globex"})
    Membership.objects.filter(tenant=world.globex, user=world.member).delete()
    assert _current(client) == world.acme


def test_cannot_switch_into_another_tenant(world):
    client = Client()
    client.force_login(world.member)
    assert client.post(reverse("tenants:switch"), {"tenant": "globex"}).status_code == 404
    assert _current(client) == world.acme


def test_user_without_tenant_has_none(db):
    client = Client()
    client.force_login(UserFactory())
    assert _current(client) is None


def test_switch_goes_back_only_to_this_site(world):
    client = Client()
    client.force_login(world.member)
    switch = reverse("tenants:switch")
    assert client.post(switch, {"tenant": "acme", "next": "/tokens/"}).url == "/tokens/"
    assert client.post(switch, {"tenant": "acme", "next": "https://evil.example/"}).url == reverse(
        "tenants:list"
    )
