"""Sign-in through a real OpenID provider (npm oidc-provider): code flow with PKCE, state and
nonce; the account is bound to the provider's `sub`."""

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.test import Client

from identity.models import ExternalIdentity, GroupMapping
from tenants.models import AuditEvent, Membership, User
from tenants.tests.factories import TenantFactory, UserFactory
from tests.identity import provider as test_provider

pytestmark = pytest.mark.django_db(transaction=True)


def _to_portal(browser: requests.Session, url: str) -> str:
    """Follow the provider's redirects until one leads back to the portal; return that URL."""
    for _ in range(10):
        if url.startswith("http://testserver"):
            return url
        response = browser.get(url, allow_redirects=False)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            continue
        if "Test provider sign-in" in response.text:
            return url  # the caller signs in
        raise AssertionError(f"unexpected provider answer {response.status_code}: {response.text[:500]}")
    raise AssertionError("too many redirects")


def provider_sign_in(
    client: Client, login: str, password: str = test_provider.PASSWORD, next_url: str = ""
) -> str:
    """Start at the portal, sign in at the provider; the portal callback URL with code and state."""
    start = client.get("/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert start.status_code == 302
    browser = requests.Session()
    form_url = _to_portal(browser, start["Location"])
    answer = browser.post(form_url, data={"login": login, "password": password}, allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    return _to_portal(browser, urljoin(form_url, answer.headers["Location"]))


def callback(client: Client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_as(client) -> str | None:
    response = client.get("/")
    return response.context["user"].username if response.status_code == 200 else None


def test_authorization_request_uses_pkce_state_and_nonce(oidc_settings):
    start = Client().get("/oidc/authenticate/")

    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["state"][0] and query["nonce"][0]
    assert query["response_type"] == ["code"]


def test_first_sign_in_creates_a_user_bound_to_sub_with_mapped_memberships(oidc_settings):
    ml = TenantFactory(slug="ml")
    GroupMapping.objects.create(group="ml-team", grant="member", tenant=ml, tenant_slug="ml")
    GroupMapping.objects.create(group="sso-admins", grant="site_admin")
    client = Client()

    response = callback(client, provider_sign_in(client, "erin"))

    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_as(client) == "erin"
    erin = User.objects.get(username="erin")
    assert (erin.first_name, erin.email, erin.is_site_admin) == ("Erin", "erin@example.test", True)
    assert not erin.has_usable_password()
    assert ExternalIdentity.objects.filter(user=erin, provider="oidc", subject="7d3f0a1c-erin").exists()
    assert Membership.objects.get(user=erin, tenant=ml).role == "member"


def test_a_matching_email_or_name_never_gives_an_existing_account(oidc_settings):
    local = UserFactory(username="siteadmin", email="siteadmin@example.test", is_site_admin=True)
    client = Client()

    callback(client, provider_sign_in(client, "mallory"))

    assert signed_in_as(client) == "siteadmin2"
    assert not local.external_identities.exists()
    assert not User.objects.get(username="siteadmin2").is_site_admin


def test_second_sign_in_finds_the_same_user(oidc_settings):
    for _ in range(2):
        client = Client()
        callback(client, provider_sign_in(client, "frank"))
        assert signed_in_as(client) == "frank"
    assert User.objects.filter(external_identities__subject="9b2e44d0-frank").count() == 1


def test_wrong_state_is_refused_and_creates_nothing(oidc_settings):
    client = Client()
    url = provider_sign_in(client, "erin")
    code = parse_qs(urlsplit(url).query)["code"][0]

    response = client.get("/oidc/callback/", {"code": code, "state": "forged-state"})

    assert response.status_code == 302 and "sso=failed" in response["Location"]
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="erin").exists()
    assert AuditEvent.objects.filter(action="auth.login_failed", detail__via="openid").exists()


def test_replayed_code_is_refused(oidc_settings):
    first = Client()
    used = provider_sign_in(first, "frank")
    callback(first, used)
    assert signed_in_as(first) == "frank"
    users_before = User.objects.count()

    attacker = Client()
    fresh = provider_sign_in(attacker, "erin")  # a valid state in the attacker's session
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    old_code = parse_qs(urlsplit(used).query)["code"][0]
    response = attacker.get("/oidc/callback/", {"code": old_code, "state": state})

    assert "sso=failed" in response["Location"]
    assert signed_in_as(attacker) is None, "frank's used code must not sign anybody in again"
    assert User.objects.count() == users_before


def test_wrong_provider_password_signs_nobody_in(oidc_settings):
    client = Client()
    client.get("/oidc/authenticate/")
    with pytest.raises(AssertionError):
        provider_sign_in(client, "erin", "wrong password")
    assert not User.objects.exists()


def test_logout_ends_the_provider_session_too(oidc_settings):
    client = Client()
    callback(client, provider_sign_in(client, "erin"))

    response = client.post("/logout/")

    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == oidc_settings.PORTAL_OIDC_ISSUER
    assert location.path == "/session/end"
    query = parse_qs(location.query)
    assert query["id_token_hint"][0] and query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert signed_in_as(client) is None


def test_login_page_offers_the_provider(oidc_settings):
    page = Client().get("/login/").content.decode()

    assert "Sign in with Example SSO" in page
    assert 'name="password"' in page, "the password form stays for local accounts by default"


def test_provider_down_gives_a_message(oidc_settings, settings):
    from tests.identity.directory import free_port

    settings.PORTAL_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    client = Client()

    response = client.get("/oidc/authenticate/", follow=True)

    assert "does not answer" in response.content.decode()


def test_the_password_form_can_be_hidden_but_local_sign_in_stays_reachable(oidc_settings):
    oidc_settings.PORTAL_LOGIN_PASSWORD_FORM = False

    assert 'name="password"' not in Client().get("/login/").content.decode()
    assert 'name="password"' in Client().get("/login/?local=1").content.decode()


def test_a_deactivated_user_cannot_sign_in_through_the_provider(oidc_settings):
    client = Client()
    callback(client, provider_sign_in(client, "frank"))
    User.objects.filter(username="frank").update(is_active=False)
    assert signed_in_as(client) is None, "the session ends at once"

    again = Client()
    response = callback(again, provider_sign_in(again, "frank"))

    assert "sso=failed" in response["Location"]
    assert signed_in_as(again) is None
