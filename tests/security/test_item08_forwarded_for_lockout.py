"""Issue 21, item 8: X-Forwarded-For could dodge the login lockout and choose the address the
audit log records, because every loopback client counted as a trusted proxy. The header is now
believed only from proxies named in PORTAL_TRUSTED_PROXIES (none by default), and failures
count per username across addresses too, on the login page and on POST /api/v1/auth/token/."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Token
from tenants.tests.factories import PASSWORD, UserFactory

LOOPBACK = "127.0.0.1"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def _page_login(password, forwarded, remote=LOOPBACK):
    return Client().post(
        "/login/",
        {"username": "alice", "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def _api_login(password, forwarded, remote=LOOPBACK):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_no_proxy_is_trusted_by_default():
    assert settings.TRUSTED_PROXIES == []


def test_rotating_the_header_from_loopback_does_not_dodge_the_login_page_lockout(alice):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _page_login("wrong", f"203.0.113.{attempt}").status_code == 200
    assert _page_login("wrong", "203.0.113.100").status_code == 429
    assert _page_login(PASSWORD, "203.0.113.200").status_code == 429
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    # the header chose nothing: the lockout and the audit log name the socket's peer
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {LOOPBACK}
    failures = AuditEvent.objects.filter(action="auth.login_failed", object_repr="alice")
    assert {str(event.ip) for event in failures} == {LOOPBACK}


def test_rotating_the_header_from_loopback_does_not_dodge_the_token_lockout(alice):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _api_login("wrong", f"203.0.113.{attempt}").status_code == 400
    assert _api_login("wrong", "203.0.113.100").status_code == 429
    response = _api_login(PASSWORD, "203.0.113.200")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not Token.objects.exists()


@pytest.mark.parametrize("login", [_page_login, _api_login], ids=["login page", "token endpoint"])
def test_failures_from_many_real_clients_lock_the_username(alice, settings, login):
    # Behind a configured proxy each address is a different client, as a botnet's would be:
    # the username-wide count still stops the guessing.
    settings.TRUSTED_PROXIES = [LOOPBACK]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login("wrong", f"203.0.113.{attempt}")
    assert login(PASSWORD, "198.51.100.50").status_code == 429
    assert AuditEvent.objects.filter(action="auth.login_failed", ip="198.51.100.50", result="denied").exists()
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_a_configured_proxy_still_names_the_client(alice, settings):
    settings.TRUSTED_PROXIES = [LOOPBACK]
    assert _page_login(PASSWORD, "203.0.113.9").status_code == 302
    assert str(AuditEvent.objects.get(action="auth.login").ip) == "203.0.113.9"
