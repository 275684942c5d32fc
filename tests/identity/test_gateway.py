"""The notebook gateway (JupyterHub, OAuth2 against the portal) for people who sign in through
the OpenID provider or the directory: the Hub's authorize request goes through their sign-in
and comes back to the Hub with a code; deactivating them stops the Hub's tokens."""

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from provisioning.services.notebook_gateway import CLIENT_ID, notebook_gateway_ensure
from tenants.models import User
from tests.identity.test_ldap_login import login as ldap_login
from tests.identity.test_oidc_login import callback, provider_sign_in

pytestmark = pytest.mark.django_db(transaction=True)

HUB = "http://hub.example"
VERIFIER = "a" * 64


def authorize_url() -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": f"{HUB}/hub/oauth_callback",
        "state": "hub-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/o/authorize/?{urlencode(query)}"


def hub_gets_a_code(client: Client) -> bool:
    answer = client.get(authorize_url())
    location = answer.get("Location", "")
    return location.startswith(f"{HUB}/hub/oauth_callback") and "code" in parse_qs(urlsplit(location).query)


def test_hub_login_through_the_openid_provider(oidc_settings):
    notebook_gateway_ensure(hub_url=HUB)
    client = Client()
    to_login = client.get(authorize_url())
    next_url = parse_qs(urlsplit(to_login["Location"]).query)["next"][0]

    back = callback(client, provider_sign_in(client, "erin", next_url=next_url))

    assert back["Location"] == next_url, "after sign-in the browser goes on to the Hub's authorize request"
    assert hub_gets_a_code(client)


def test_hub_login_of_a_directory_user(ldap_settings):
    notebook_gateway_ensure(hub_url=HUB)
    client, _ = ldap_login("alice")

    assert hub_gets_a_code(client)


def test_deactivation_stops_the_hubs_tokens(ldap_settings):
    from datetime import timedelta

    from django.utils import timezone

    from identity.services.users import user_set_active
    from tenants.tests.factories import UserFactory

    notebook_gateway_ensure(hub_url=HUB)
    ldap_login("alice")
    alice = User.objects.get(username="alice")
    AccessToken.objects.create(
        user=alice,
        application=Application.objects.get(client_id=CLIENT_ID),
        token="hub-token-of-alice",
        scope="profile",
        expires=timezone.now() + timedelta(minutes=5),
    )
    hub = APIClient()
    assert (
        hub.get("/api/v1/notebooks/userinfo/", HTTP_AUTHORIZATION="Bearer hub-token-of-alice").status_code
        == 200
    )

    user_set_active(actor=UserFactory(username="boss", is_site_admin=True), user=alice, is_active=False)

    assert hub.get(
        "/api/v1/notebooks/userinfo/", HTTP_AUTHORIZATION="Bearer hub-token-of-alice"
    ).status_code in (
        401,
        403,
    )
