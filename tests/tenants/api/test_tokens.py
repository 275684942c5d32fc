"""Personal API tokens: several per user, shown once, stored hashed, revocable, and the
password-for-token exchange."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import Token
from tenants.tests.factories import PASSWORD, UserFactory
from tests.tenants.conftest import api_client_for


def _with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def test_created_token_is_shown_once_and_stored_hashed(alice):
    created = api_client_for(alice).post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    key = created["key"]
    assert key.startswith(created["prefix"])
    stored = Token.objects.get(pk=created["id"])
    assert key not in (stored.key_hash, stored.prefix)
    listed = api_client_for(alice).get("/api/v1/tokens/").json()["results"]
    assert [token["name"] for token in listed] == ["ci"]
    assert "key" not in listed[0]


def test_a_user_holds_several_tokens_and_each_authenticates(alice):
    client = api_client_for(alice)
    keys = [client.post("/api/v1/tokens/", {"name": name}, format="json").json()["key"] for name in "ab"]
    for key in keys:
        response = _with_token(key).get("/api/v1/tokens/")
        assert response.status_code == 200
        assert response.json()["count"] == 2


def test_revoked_token_no_longer_authenticates(alice):
    created = api_client_for(alice).post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    client = _with_token(created["key"])
    assert client.delete(f"/api/v1/tokens/{created['id']}/").status_code == 204
    response = client.get("/api/v1/tokens/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_expired_forged_and_malformed_tokens_are_refused(alice):
    expired = api_client_for(alice).post("/api/v1/tokens/", {"name": "old"}, format="json").json()
    Token.objects.filter(pk=expired["id"]).update(expires=timezone.now() - timedelta(minutes=1))
    key = expired["key"]
    for bad in (key, key[:-1] + ("A" if key[-1] != "A" else "B"), "nodot", "Token"):
        assert _with_token(bad).get("/api/v1/tokens/").status_code == 401


def test_another_users_token_is_not_found(alice):
    created = api_client_for(alice).post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    bob = UserFactory(username="bob")
    assert api_client_for(bob).delete(f"/api/v1/tokens/{created['id']}/").status_code == 404
    assert Token.objects.get(pk=created["id"]).revoked is None


def test_password_exchange_returns_a_working_token_that_expires(alice):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expires"]
    assert _with_token(body["token"]).get("/api/v1/tenants/").status_code == 200


def test_password_exchange_refuses_inactive_users(alice):
    alice.is_active = False
    alice.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
