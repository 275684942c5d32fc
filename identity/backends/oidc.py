"""Sign-in through the organisation's OpenID provider (mozilla-django-oidc): authorization code
flow with PKCE, state and nonce; the account is found by the provider's `sub` only."""

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from common.client_ip import client_ip
from identity.models import ExternalIdentity
from identity.oidc import ProviderUnavailable, oidc_setting
from identity.services.logins import external_login
from identity.services.oidc_accounts import oidc_user_create, oidc_user_update

logger = logging.getLogger(__name__)


class OpenIDBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, ProviderUnavailable, SuspiciousOperation) as error:
            # A replayed or forged code, an id token that fails its checks, a provider that is down:
            # no user, and the login page says that sign-in failed.
            logger.warning("OpenID sign-in refused: %s", error)
            return None

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(
            external_identities__provider=ExternalIdentity.Provider.OIDC,
            external_identities__issuer=settings.PORTAL_OIDC_ISSUER,
            external_identities__subject=claims["sub"],
        )

    def create_user(self, claims):
        return oidc_user_create(issuer=settings.PORTAL_OIDC_ISSUER, claims=claims)

    def update_user(self, user, claims):
        return oidc_user_update(user=user, claims=claims)

    def get_or_create_user(self, access_token, id_token, payload):
        user_info = self.get_userinfo(access_token, id_token, payload)
        if user_info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject than the id token.")
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None and user.is_active:
            groups = user_info.get(
                settings.PORTAL_OIDC_GROUP_CLAIM, payload.get(settings.PORTAL_OIDC_GROUP_CLAIM)
            )
            external_login(
                user=user,
                provider=ExternalIdentity.Provider.OIDC,
                issuer=settings.PORTAL_OIDC_ISSUER,
                subject=payload["sub"],
                groups=set(groups) if isinstance(groups, list) else set(),
                ip=client_ip(self.request),
            )
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
