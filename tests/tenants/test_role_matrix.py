"""Who may do what: every role against every tenancy action, through the API and the pages.
`acme` is the tenant under test; `mallory` belongs only to `globex`, so acme is a 404 to her."""

import pytest
from django.test import Client
from django.urls import reverse

from tenants.models import Membership, Tenant
from tenants.tests.factories import UserFactory
from tests.tenants.conftest import api_client_for

ROLES = ("site_admin", "tenant_admin", "member", "outsider", "anonymous")


def _user(world, role):
    return None if role == "anonymous" else getattr(world, role)


# action: (method, url, body, {role: expected status})
API_MATRIX = {
    "list tenants": ("get", "/api/v1/tenants/", None, dict.fromkeys(ROLES[:4], 200) | {"anonymous": 401}),
    "create tenant": (
        "post",
        "/api/v1/tenants/",
        {"slug": "initech", "name": "Initech"},
        {"site_admin": 201, "tenant_admin": 403, "member": 403, "outsider": 403, "anonymous": 401},
    ),
    "read tenant": (
        "get",
        "/api/v1/tenants/acme/",
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 200, "outsider": 404, "anonymous": 401},
    ),
    "rename tenant": (
        "patch",
        "/api/v1/tenants/acme/",
        {"name": "Acme Corp"},
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "change quota": (
        "patch",
        "/api/v1/tenants/acme/",
        {"quota": {"gpus": 2}},
        {"site_admin": 200, "tenant_admin": 403, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "list members": (
        "get",
        "/api/v1/tenants/acme/members/",
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "add member": (
        "post",
        "/api/v1/tenants/acme/members/",
        {"username": "carol", "role": "member"},
        {"site_admin": 201, "tenant_admin": 201, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "change role": (
        "patch",
        "/api/v1/tenants/acme/members/bob/",
        {"role": "admin"},
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "remove member": (
        "delete",
        "/api/v1/tenants/acme/members/bob/",
        None,
        {"site_admin": 204, "tenant_admin": 204, "member": 403, "outsider": 404, "anonymous": 401},
    ),
    "read audit log": (
        "get",
        "/api/v1/audit/",
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 403, "anonymous": 401},
    ),
    "list own tokens": ("get", "/api/v1/tokens/", None, dict.fromkeys(ROLES[:4], 200) | {"anonymous": 401}),
    "create token": (
        "post",
        "/api/v1/tokens/",
        {"name": "ci"},
        dict.fromkeys(ROLES[:4], 201) | {"anonymous": 401},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", API_MATRIX)
def test_api_role_matrix(world, action, role):
    UserFactory(username="carol")
    method, url, body, expected = API_MATRIX[action]
    response = getattr(api_client_for(_user(world, role)), method)(url, body, format="json")
    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        assert {"detail", "code"} <= set(response.json())


def test_refused_changes_change_nothing(world):
    api_client_for(world.member).patch("/api/v1/tenants/acme/", {"name": "Pwned"}, format="json")
    api_client_for(world.tenant_admin).patch("/api/v1/tenants/acme/", {"quota": {"gpus": 64}}, format="json")
    api_client_for(world.outsider).delete("/api/v1/tenants/acme/members/bob/")
    acme = Tenant.objects.get(slug="acme")
    assert (acme.name, acme.quota_gpus) == ("Acme", 0)
    assert Membership.objects.filter(tenant=acme, user=world.member).exists()


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("site_admin", ["acme", "globex"]),
        ("tenant_admin", ["acme"]),
        ("member", ["acme"]),
        ("outsider", ["globex"]),
    ],
)
def test_tenant_list_shows_only_own_tenants(world, role, visible):
    response = api_client_for(_user(world, role)).get("/api/v1/tenants/")
    assert [tenant["slug"] for tenant in response.json()["results"]] == visible


def test_tenant_admin_reads_only_own_tenants_audit(world):
    api_client_for(world.site_admin).patch("/api/v1/tenants/globex/", {"name": "G"}, format="json")
    api_client_for(world.site_admin).patch("/api/v1/tenants/acme/", {"name": "A"}, format="json")
    events = api_client_for(world.tenant_admin).get("/api/v1/audit/").json()["results"]
    assert {event["tenant"] for event in events} == {"acme"}


# page: (method, url name, kwargs, body, {role: expected status}); anonymous is sent to log in.
PAGE_MATRIX = {
    "tenant list": ("get", "tenants:list", {}, None, dict.fromkeys(ROLES[:4], 200)),
    "new tenant form": (
        "get",
        "tenants:create",
        {},
        None,
        {"site_admin": 200, "tenant_admin": 403, "member": 403, "outsider": 403},
    ),
    "create tenant": (
        "post",
        "tenants:create",
        {},
        {
            "slug": "initech",
            "name": "Initech",
            "quota_cpus": "4",
            "quota_memory_mib": "4096",
            "quota_gpus": "0",
            "quota_storage_gib": "10",
            "quota_sandboxes": "2",
        },
        {"site_admin": 302, "tenant_admin": 403, "member": 403, "outsider": 403},
    ),
    "tenant detail": (
        "get",
        "tenants:detail",
        {"slug": "acme"},
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 200, "outsider": 404},
    ),
    "edit form": (
        "get",
        "tenants:edit",
        {"slug": "acme"},
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 404},
    ),
    "add member": (
        "post",
        "tenants:member-add",
        {"slug": "acme"},
        {"username": "carol", "role": "member"},
        {"site_admin": 302, "tenant_admin": 302, "member": 403, "outsider": 404},
    ),
    "change role": (
        "post",
        "tenants:member-role",
        {"slug": "acme", "username": "bob"},
        {"role": "admin"},
        {"site_admin": 302, "tenant_admin": 302, "member": 403, "outsider": 404},
    ),
    "remove member": (
        "post",
        "tenants:member-remove",
        {"slug": "acme", "username": "bob"},
        {},
        {"site_admin": 302, "tenant_admin": 302, "member": 403, "outsider": 404},
    ),
    "switch tenant": (
        "post",
        "tenants:switch",
        {},
        {"tenant": "acme"},
        {"site_admin": 302, "tenant_admin": 302, "member": 302, "outsider": 404},
    ),
    "tokens": ("get", "tenants:tokens", {}, None, dict.fromkeys(ROLES[:4], 200)),
    "audit log": (
        "get",
        "tenants:audit",
        {},
        None,
        {"site_admin": 200, "tenant_admin": 200, "member": 403, "outsider": 403},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGE_MATRIX)
def test_page_role_matrix(world, page, role):
    UserFactory(username="carol")
    method, name, kwargs, body, expected = PAGE_MATRIX[page]
    client = Client()
    user = _user(world, role)
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(reverse(name, kwargs=kwargs), body)
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith("/login/")
    else:
        assert response.status_code == expected[role]
        if response.status_code == 302:
            assert not response.url.startswith("/login/")


def test_pages_change_what_they_say(world):
    client = Client()
    client.force_login(world.tenant_admin)
    UserFactory(username="carol")
    client.post(
        reverse("tenants:member-add", kwargs={"slug": "acme"}), {"username": "carol", "role": "admin"}
    )
    client.post(reverse("tenants:member-remove", kwargs={"slug": "acme", "username": "bob"}))
    page = client.get(reverse("tenants:detail", kwargs={"slug": "acme"}))
    roles = {m.user.username: m.role for m in page.context["memberships"]}
    assert roles == {"alice": "admin", "carol": "admin"}
