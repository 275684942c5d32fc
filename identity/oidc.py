"""The OpenID provider's endpoints, read from its discovery document, and the settings
mozilla-django-oidc asks for, with those endpoints filled in.

Only the issuer is configured (PORTAL_OIDC_ISSUER); a document that could not be read is not
remembered, so a provider that was down at the first login is asked again at the next."""

from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from mozilla_django_oidc.utils import import_from_settings

from common.errors import Unavailable

_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_documents: dict[str, dict] = {}


class ProviderUnavailable(Unavailable):
    code = "identity_provider_unavailable"


def provider_metadata() -> dict:
    issuer = settings.PORTAL_OIDC_ISSUER
    if issuer not in _documents:
        try:
            response = requests.get(
                f"{issuer}/.well-known/openid-configuration",
                timeout=settings.OIDC_TIMEOUT,
                verify=settings.OIDC_VERIFY_SSL,
            )
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(f"The sign-in provider at {issuer} does not answer: {error}") from error
        if document.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnavailable(f"The provider at {issuer} calls itself {document.get('issuer')!r}.")
        _documents[issuer] = document
    return _documents[issuer]


def oidc_setting(attr, *default):
    """mozilla-django-oidc's `get_settings`, with the provider's endpoints from discovery."""
    if attr in _ENDPOINTS:
        return provider_metadata()[_ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


def provider_logout_url(request) -> str | None:
    """Where to send the browser so that the provider ends its session too, or None when the
    user did not sign in through it or it offers no end-session endpoint."""
    id_token = request.session.get("oidc_id_token")
    if not id_token:
        return None
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL)),
        }
    )
    return f"{endpoint}?{query}"
