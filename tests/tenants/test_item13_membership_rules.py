"""Issue 21, item 13: tenant admins could add anyone, site admins included, as tenant admin, and
the refusal told which usernames exist. Site admins join only when a site admin adds them,
unknown and refused names get one answer, and the last tenant admin cannot demote or remove
themselves (409). (The gateway's service account of those days is gone: the gateway asks the
portal with a shared secret, as no user.)"""

import pytest
from django.test import Client
from django.urls import reverse

from tenants.models import AuditEvent, Membership
from tenants.tests.factories import UserFactory
from tests.tenants.conftest import api_client_for

MEMBERS = "/api/v1/tenants/acme/members/"


def _add(actor, username):
    return api_client_for(actor).post(MEMBERS, {"username": username, "role": "admin"}, format="json")


def test_unknown_and_site_admin_get_one_answer(world):
    unknown = _add(world.tenant_admin, "nobody-by-this-name")
    site_admin = _add(world.tenant_admin, world.site_admin.username)

    assert unknown.status_code == site_admin.status_code == 400
    assert unknown.json() == site_admin.json()
    assert unknown.json()["code"] == "invalid"
    assert unknown.json()["username"] == ["There is no active user with that name who can join this tenant."]
    assert not Membership.objects.filter(user=world.site_admin).exists()
    assert not AuditEvent.objects.filter(action="member.add").exists()


def test_a_site_admin_may_add_a_site_admin(world):
    other = UserFactory(username="root2", is_site_admin=True)
    assert _add(world.site_admin, other.username).status_code == 201


def test_the_member_page_gives_the_same_answer(world):
    client = Client()
    client.force_login(world.tenant_admin)
    url = reverse("tenants:member-add", kwargs={"slug": "acme"})

    pages = [
        client.post(url, {"username": name, "role": "admin"})
        for name in ("nobody", world.site_admin.username)
    ]

    assert [page.status_code for page in pages] == [400, 400]
    for page in pages:
        assert "There is no active user with that name who can join this tenant." in page.content.decode()
    assert not world.site_admin.memberships.exists()


@pytest.mark.parametrize(
    ("method", "body"), [("patch", {"role": "member"}), ("delete", None)], ids=["demote", "remove"]
)
def test_the_last_tenant_admin_cannot_step_down(world, method, body):
    url = f"{MEMBERS}{world.tenant_admin.username}/"

    refused = getattr(api_client_for(world.tenant_admin), method)(url, body, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "last_tenant_admin"
    assert Membership.objects.get(user=world.tenant_admin, tenant=world.acme).role == Membership.Role.ADMIN

    Membership.objects.filter(user=world.member, tenant=world.acme).update(role=Membership.Role.ADMIN)
    allowed = getattr(api_client_for(world.tenant_admin), method)(url, body, format="json")
    assert allowed.status_code in (200, 204)


def test_the_last_tenant_admin_cannot_remove_themselves_on_the_page(world):
    client = Client()
    client.force_login(world.tenant_admin)
    url = reverse("tenants:member-remove", kwargs={"slug": "acme", "username": world.tenant_admin.username})

    page = client.post(url, follow=True)

    assert "You are the only admin of acme" in page.content.decode()
    assert Membership.objects.filter(user=world.tenant_admin, tenant=world.acme).exists()
