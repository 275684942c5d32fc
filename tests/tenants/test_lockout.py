"""Lockout after repeated failed logins (django-axes), by username and the real client address
behind a configured proxy, on the login page and on POST /api/v1/auth/token/."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tenants.models import AuditEvent
from tenants.tests.factories import PASSWORD, UserFactory

PROXY = "127.0.0.1"


@pytest.fixture(autouse=True)
def _behind_a_configured_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def _login(client, password, client_address, remote=PROXY):
    return client.post(
        "/login/",
        {"username": "alice", "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=client_address,
    )


def test_login_page_locks_out_after_repeated_failures(alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong", "203.0.113.5").status_code == 200  # the form again, with an error
    assert _login(client, "wrong", "203.0.113.5").status_code == 429
    # now even the right password is refused from that address
    assert _login(client, PASSWORD, "203.0.113.5").status_code == 429

    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.ip_address == "203.0.113.5"  # the client, not the proxy
    failures = AuditEvent.objects.filter(action="auth.login_failed", object_repr="alice")
    assert failures.count() == settings.AXES_FAILURE_LIMIT + 1
    assert {str(event.ip) for event in failures} == {"203.0.113.5"}
    assert failures.filter(result="denied").exists()


def test_another_account_behind_the_same_proxy_is_not_locked_out(alice):
    UserFactory(username="bob")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "wrong", "203.0.113.5")
    response = Client().post(
        "/login/",
        {"username": "bob", "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 302  # logged in: another person behind the proxy
    login = AuditEvent.objects.get(action="auth.login", actor_username="bob")
    assert str(login.ip) == "203.0.113.9"


def test_untrusted_peer_cannot_dodge_the_lockout_with_a_forged_header(alice):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "wrong", f"203.0.113.{attempt}", remote="198.51.100.7")
    assert _login(Client(), PASSWORD, "203.0.113.200", remote="198.51.100.7").status_code == 429
    assert AccessAttempt.objects.get(username="alice").ip_address == "198.51.100.7"


def test_token_endpoint_counts_failures_and_locks_out(alice):
    client = APIClient()
    address = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, **address)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, **address)
    assert response.status_code == 429
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, **address)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert AuditEvent.objects.filter(action="auth.login_failed", ip="203.0.113.5").count() == 6


def test_success_resets_the_count(alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(Client(), "wrong", "203.0.113.5")
    assert _login(Client(), PASSWORD, "203.0.113.5").status_code == 302
    assert _login(Client(), "wrong", "203.0.113.5").status_code == 200
