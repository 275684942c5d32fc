"""Local users and deprovisioning, through /api/v1/users/ and the site admin pages."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from identity.models import Account
from tenants.models import AuditEvent, User
from tenants.services.tokens import token_create
from tenants.tests.factories import PASSWORD, MembershipFactory, UserFactory

NEW_PASSWORD = "Brand new secret 42"  # noqa: S105


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root", is_site_admin=True)


@pytest.fixture
def api(site_admin):
    client = APIClient()
    client.force_authenticate(site_admin)
    return client


def test_site_admin_creates_a_local_user_with_a_temporary_password(api):
    answer = api.post(
        "/api/v1/users/",
        {"username": "grace", "password": "Temporary pass 7", "email": "grace@example.test"},
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["username"] == "grace" and body["must_change_password"] is True
    assert body["signs_in_with"] == [] and "password" not in body
    assert AuditEvent.objects.filter(action="user.create", object_repr="grace").exists()


def test_password_rules_are_djangos_validators(api):
    answer = api.post("/api/v1/users/", {"username": "grace", "password": "12345678"}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and answer.json()["password"]
    assert not User.objects.filter(username="grace").exists()


def test_a_taken_username_is_refused(api):
    UserFactory(username="grace")

    answer = api.post("/api/v1/users/", {"username": "Grace", "password": "Temporary pass 7"}, format="json")

    assert answer.status_code == 400 and "exists already" in answer.json()["detail"]


def test_only_site_admins_manage_users(db):
    member = MembershipFactory().user
    client = APIClient()
    client.force_authenticate(member)

    assert client.get("/api/v1/users/").status_code == 403
    assert client.post("/api/v1/users/", {"username": "x", "password": "Temporary pass 7"}).status_code == 403
    assert client.patch(f"/api/v1/users/{member.pk}/", {"is_active": False}).status_code == 403


def test_temporary_password_must_be_changed_at_next_login(api):
    api.post("/api/v1/users/", {"username": "grace", "password": "Temporary pass 7"}, format="json")
    browser = Client()

    answer = browser.post("/login/", {"username": "grace", "password": "Temporary pass 7"})

    assert answer["Location"] == "/password/"
    assert browser.get("/sandboxes/")["Location"] == "/password/", "nothing else until it is changed"
    changed = browser.post(
        "/password/",
        {
            "old_password": "Temporary pass 7",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert changed["Location"] == "/"
    assert browser.get("/sandboxes/").status_code == 200, "the session survives the change"
    assert not Account.objects.get(user__username="grace").must_change_password


def test_a_temporary_password_gets_no_api_token_until_changed(api):
    api.post("/api/v1/users/", {"username": "grace", "password": "Temporary pass 7"}, format="json")
    script = APIClient()

    refused = script.post("/api/v1/auth/token/", {"username": "grace", "password": "Temporary pass 7"})

    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    browser = Client()
    browser.post("/login/", {"username": "grace", "password": "Temporary pass 7"})
    browser.post(
        "/password/",
        {
            "old_password": "Temporary pass 7",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert (
        script.post("/api/v1/auth/token/", {"username": "grace", "password": NEW_PASSWORD}).status_code == 200
    )


def test_every_user_changes_their_own_password(db):
    user = UserFactory(username="heidi")
    browser = Client()
    browser.force_login(user)

    wrong = browser.post(
        "/password/",
        {"old_password": "nope", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    weak = browser.post(
        "/password/", {"old_password": PASSWORD, "new_password": "password", "new_password_again": "password"}
    )
    assert "That is not your current password." in wrong.content.decode()
    assert "too common" in weak.content.decode()
    browser.post(
        "/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_deactivation_ends_sessions_and_tokens_at_once_and_keeps_everything_else(api, site_admin):
    membership = MembershipFactory(user__username="ivan")
    ivan = membership.user
    browser = Client()
    browser.post("/login/", {"username": "ivan", "password": PASSWORD})
    assert browser.get("/").status_code == 200
    _, key = token_create(user=ivan, name="ci")
    script = APIClient()
    assert script.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    answer = api.patch(f"/api/v1/users/{ivan.pk}/", {"is_active": False}, format="json")

    assert answer.status_code == 200 and answer.json()["is_active"] is False
    assert browser.get("/")["Location"].startswith("/login/")
    assert script.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert Client().post("/login/", {"username": "ivan", "password": PASSWORD}).status_code == 200
    membership.refresh_from_db()  # still there: tenant admins keep seeing what ivan left
    assert AuditEvent.objects.filter(action="user.deactivate", object_repr="ivan", actor=site_admin).exists()

    api.patch(f"/api/v1/users/{ivan.pk}/", {"is_active": True}, format="json")
    assert script.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert AuditEvent.objects.filter(action="user.reactivate", object_repr="ivan").exists()


def test_a_site_admin_cannot_deactivate_themselves(api, site_admin):
    answer = api.patch(f"/api/v1/users/{site_admin.pk}/", {"is_active": False}, format="json")

    assert answer.status_code == 409
    site_admin.refresh_from_db()
    assert site_admin.is_active


def test_users_pages(site_admin):
    browser = Client()
    browser.force_login(site_admin)

    created = browser.post(
        "/users/new/", {"username": "judy", "password": "Temporary pass 7", "first_name": "Judy"}
    )
    judy = User.objects.get(username="judy")
    assert created["Location"] == f"/users/{judy.pk}/"
    page = browser.get("/users/").content.decode()
    assert "judy" in page and "temporary password" in page
    browser.post(f"/users/{judy.pk}/active/", {"is_active": "false"})
    judy.refresh_from_db()
    assert not judy.is_active
    assert "Reactivate" in browser.get(f"/users/{judy.pk}/").content.decode()


def test_directory_and_sso_accounts_get_no_portal_password(api):
    from identity.models import ExternalIdentity

    kim = UserFactory(username="kim")
    kim.set_unusable_password()
    kim.save()
    ExternalIdentity.objects.create(user=kim, provider="ldap", issuer="", subject="kim")

    answer = api.patch(f"/api/v1/users/{kim.pk}/", {"password": "Temporary pass 7"}, format="json")

    assert answer.status_code == 409 and answer.json()["code"] == "conflict"
    kim.refresh_from_db()
    assert not kim.has_usable_password()
