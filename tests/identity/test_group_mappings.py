"""Group mappings through /api/v1/group-mappings/, the site admin page and the tenant's page."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from identity.models import GroupMapping
from identity.selectors.mappings import grants_for_tenant
from tenants.models import AuditEvent
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root", is_site_admin=True)


@pytest.fixture
def api(site_admin):
    client = APIClient()
    client.force_authenticate(site_admin)
    return client


def test_create_list_and_delete(api):
    TenantFactory(slug="ml")

    created = api.post(
        "/api/v1/group-mappings/", {"group": "ml-team", "grant": "admin", "tenant": "ml"}, format="json"
    )
    site = api.post(
        "/api/v1/group-mappings/", {"group": "portal-admins", "grant": "site_admin"}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0, "created": ""} == {
        "id": 0,
        "group": "ml-team",
        "grant": "admin",
        "tenant": "ml",
        "tenant_exists": True,
        "created": "",
    }
    assert site.status_code == 201 and site.json()["tenant"] == ""
    assert api.get("/api/v1/group-mappings/").json()["count"] == 2
    assert api.delete(f"/api/v1/group-mappings/{created.json()['id']}/").status_code == 204
    assert list(GroupMapping.objects.values_list("group", flat=True)) == ["portal-admins"]
    assert AuditEvent.objects.filter(action="group_mapping.delete").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"group": "ml-team", "grant": "admin"},
        {"group": "ml-team", "grant": "site_admin", "tenant": "ml"},
        {"group": "ml-team", "grant": "owner", "tenant": "ml"},
        {"group": "ml-team", "grant": "member", "tenant": "nope"},
        {"group": "  ", "grant": "member", "tenant": "ml"},
    ],
)
def test_bad_mappings_are_refused(api, body):
    TenantFactory(slug="ml")

    answer = api.post("/api/v1/group-mappings/", body, format="json")

    assert answer.status_code == 400, answer.content
    assert not GroupMapping.objects.exists()


def test_the_same_group_twice_for_a_tenant_is_refused(api):
    TenantFactory(slug="ml")
    api.post(
        "/api/v1/group-mappings/", {"group": "ml-team", "grant": "member", "tenant": "ml"}, format="json"
    )

    again = api.post(
        "/api/v1/group-mappings/", {"group": "ml-team", "grant": "admin", "tenant": "ml"}, format="json"
    )

    assert again.status_code == 400 and "already" in again.json()["detail"]


def test_only_site_admins(db):
    member = MembershipFactory().user
    client = APIClient()
    client.force_authenticate(member)

    assert client.get("/api/v1/group-mappings/").status_code == 403


def test_a_deleted_tenant_shows_on_the_mapping(api):
    tenant = TenantFactory(slug="gone")
    GroupMapping.objects.create(group="g", grant="member", tenant=tenant, tenant_slug="gone")
    tenant.delete()

    assert api.get("/api/v1/group-mappings/").json()["results"][0]["tenant_exists"] is False


def test_page_adds_and_removes_mappings(site_admin):
    TenantFactory(slug="ml")
    browser = Client()
    browser.force_login(site_admin)

    browser.post("/group-mappings/", {"group": "ml-team", "grant": "member", "tenant": "ml"})
    page = browser.get("/group-mappings/").content.decode()

    assert "ml-team" in page
    mapping = GroupMapping.objects.get()
    browser.post(f"/group-mappings/{mapping.pk}/delete/")
    assert not GroupMapping.objects.exists()


def test_tenant_grants_list_rows_and_settings(settings, db):
    ml = TenantFactory(slug="ml")
    GroupMapping.objects.create(group="ml-team", grant="member", tenant=ml, tenant_slug="ml")
    settings.PORTAL_GROUP_MAPPINGS = [{"group": "ML-Leads", "tenant": "ml", "role": "admin"}]

    grants = grants_for_tenant(tenant=ml)

    assert [(grant.group, grant.grant, grant.source) for grant in grants] == [
        ("ML-Leads", "admin", "settings"),
        ("ml-team", "member", "portal"),
    ]


def test_tenant_page_tag_says_which_groups_grant_what(db):
    from django.template import Context, Template

    ml = TenantFactory(slug="ml")
    GroupMapping.objects.create(group="ml-leads", grant="admin", tenant=ml, tenant_slug="ml")

    html = Template("{% load identity_ui %}{% tenant_group_grants tenant %}").render(Context({"tenant": ml}))

    assert "ml-leads" in html and "Tenant admin" in html
