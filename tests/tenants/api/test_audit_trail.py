"""Every state-changing tenancy action leaves an audit event with actor, tenant, object, result
and client address; the log itself can only be read."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tenants.models import AuditEvent
from tenants.tests.factories import PASSWORD, UserFactory

CLIENT = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}


@pytest.fixture(autouse=True)
def _behind_a_local_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_site_admin=True)


def _token_client(username):
    key = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, **CLIENT)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key.json()['token']}", **CLIENT)
    return client


def test_each_action_is_audited(root):
    UserFactory(username="carol")
    APIClient().post("/api/v1/auth/token/", {"username": "root", "password": "wrong"}, **CLIENT)
    Client().post("/login/", {"username": "root", "password": PASSWORD}, **CLIENT)
    api = _token_client("root")
    api.post("/api/v1/tenants/", {"slug": "acme", "name": "Acme"}, format="json")
    api.patch("/api/v1/tenants/acme/", {"name": "Acme Corp", "quota": {"gpus": 4}}, format="json")
    api.post("/api/v1/tenants/acme/members/", {"username": "carol"}, format="json")
    api.patch("/api/v1/tenants/acme/members/carol/", {"role": "admin"}, format="json")
    api.delete("/api/v1/tenants/acme/members/carol/")
    token = api.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    api.delete(f"/api/v1/tokens/{token['id']}/")

    events = list(AuditEvent.objects.order_by("pk"))
    assert [
        (e.action, e.result, e.actor_username or None, e.tenant.slug if e.tenant else None) for e in events
    ] == [
        ("auth.login_failed", "failure", None, None),
        ("auth.login", "success", "root", None),  # the login page
        ("token.create", "success", "root", None),  # POST /auth/token/ makes a token ...
        ("auth.login", "success", "root", None),  # ... and is a login
        ("tenant.create", "success", "root", "acme"),
        ("tenant.update", "success", "root", "acme"),
        ("tenant.quota_update", "success", "root", "acme"),
        ("member.add", "success", "root", "acme"),
        ("member.change_role", "success", "root", "acme"),
        ("member.remove", "success", "root", "acme"),
        ("token.create", "success", "root", None),
        ("token.revoke", "success", "root", None),
    ]
    assert {str(e.ip) for e in events} == {"203.0.113.5"}
    quota = events[6]
    assert (quota.detail["before"]["gpus"], quota.detail["after"]["gpus"]) == ("0", "4")
    assert events[0].object_repr == "root"
    assert events[7].detail == {"username": "carol", "role": "member"}


def test_logout_is_audited(root):
    client = Client()
    client.post("/login/", {"username": "root", "password": PASSWORD}, **CLIENT)
    client.post("/logout/", **CLIENT)
    assert AuditEvent.objects.filter(action="auth.logout", actor_username="root").exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_offers_no_way_to_write_the_log(root, method):
    api = APIClient()
    api.force_authenticate(root)
    assert getattr(api, method)("/api/v1/audit/", {}, format="json").status_code == 405


def test_audit_filters(root):
    api = _token_client("root")
    api.post("/api/v1/tenants/", {"slug": "acme", "name": "Acme"}, format="json")
    api.post("/api/v1/tenants/", {"slug": "globex", "name": "Globex"}, format="json")
    api.patch("/api/v1/tenants/acme/", {"name": "Acme Corp"}, format="json")
    acme_id = str(AuditEvent.objects.filter(action="tenant.create", tenant__slug="acme").get().object_id)

    def actions(**query):
        response = api.get("/api/v1/audit/", query)
        assert response.status_code == 200, response.content
        return sorted(event["action"] for event in response.json()["results"])

    assert actions(action="tenant.create") == ["tenant.create", "tenant.create"]
    assert actions(action="tenant.") == ["tenant.create", "tenant.create", "tenant.update"]
    assert actions(tenant="acme") == ["tenant.create", "tenant.update"]
    assert actions(object_type="tenants.tenant", object_id=acme_id) == ["tenant.create", "tenant.update"]
    assert actions(actor="nobody") == []
    assert len(actions(actor="root")) == len(actions())
    assert actions(since="2999-01-01T00:00:00Z") == []
    assert "tenant.create" in actions(until="2999-01-01T00:00:00Z")
    response = api.get("/api/v1/audit/", {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()
