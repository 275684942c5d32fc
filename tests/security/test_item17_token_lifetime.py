"""Issue 21, item 17: a 24-hour login token could mint tokens that never expire. Every token
minted now ends within the site's maximum lifetime (PORTAL_TOKEN_MAX_DAYS), and a token minted
with a token ends no later than that one."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import Token
from tenants.tests.factories import PASSWORD, UserFactory
from tests.tenants.conftest import api_client_for


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def _login_token_client():
    """A client holding the short token that POST /api/v1/auth/token/ hands out."""
    login = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {login['token']}")
    return client, Token.objects.get(name="auth/token")


def test_a_login_token_cannot_mint_a_token_that_never_expires(alice):
    client, login_token = _login_token_client()

    created = client.post("/api/v1/tokens/", {"name": "ci", "expires": None}, format="json")

    assert created.status_code == 201, created.json()
    minted = Token.objects.get(pk=created.json()["id"])
    assert minted.expires is not None
    assert minted.expires <= login_token.expires


def test_a_login_token_cannot_mint_a_token_that_outlives_it(alice):
    client, login_token = _login_token_client()
    later = (login_token.expires + timedelta(days=30)).isoformat()

    refused = client.post("/api/v1/tokens/", {"name": "ci", "expires": later}, format="json")

    assert refused.status_code == 400
    assert "expires" in refused.json()
    assert list(Token.objects.values_list("name", flat=True)) == ["auth/token"]


def test_every_token_ends_within_the_site_maximum(alice, settings):
    settings.TOKEN_MAX_DAYS = 30
    client = api_client_for(alice)  # a browser session: no token to be bounded by

    default = client.post("/api/v1/tokens/", {"name": "ci"}, format="json").json()
    refused = client.post(
        "/api/v1/tokens/",
        {"name": "forever", "expires": (timezone.now() + timedelta(days=31)).isoformat()},
        format="json",
    )

    expires = Token.objects.get(pk=default["id"]).expires
    assert timezone.now() + timedelta(days=29) < expires <= timezone.now() + timedelta(days=30)
    assert refused.status_code == 400
    assert "30 days" in refused.json()["expires"][0]
    assert not Token.objects.filter(name="forever").exists()


def test_the_tokens_page_refuses_a_token_beyond_the_maximum(alice, settings):
    settings.TOKEN_MAX_DAYS = 30
    client = Client()
    client.force_login(alice)
    too_late = (timezone.now() + timedelta(days=400)).strftime("%Y-%m-%d %H:%M")

    page = client.post("/tokens/", {"name": "forever", "expires": too_late})

    assert page.status_code == 200
    assert "no later than the site&#x27;s maximum token lifetime" in page.content.decode()
    assert not Token.objects.exists()


def test_login_tokens_expire_too(alice, settings):
    settings.TOKEN_MAX_DAYS = 1
    settings.API_LOGIN_TOKEN_HOURS = 72
    _client, login_token = _login_token_client()

    for token in Token.objects.all():
        assert token.expires <= timezone.now() + timedelta(days=1)
    assert login_token.expires is not None
