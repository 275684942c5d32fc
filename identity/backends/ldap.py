"""Sign-in against the organisation's LDAP directory or Active Directory (django-auth-ldap)."""

import logging

import ldap
from django_auth_ldap.backend import LDAPBackend

from common.client_ip import client_ip
from identity.directory import directory_settings
from identity.models import ExternalIdentity
from identity.services.deprovisioning import directory_reactivate
from identity.services.logins import external_identity_bind, external_login

logger = logging.getLogger(__name__)


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap with the portal's rules: a directory user never takes over a local
    account of the same name, inactive portal users get no session, and every login brings the
    user's tenant memberships in line with the group mappings."""

    @property
    def default_settings(self):
        return directory_settings()

    def authenticate(self, request, username=None, password=None, **kwargs):
        self.request = request
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        if (
            not built
            and not user.external_identities.filter(provider=ExternalIdentity.Provider.LDAP).exists()
        ):
            logger.warning("LDAP login of %r refused: a local account has that name", username)
            raise ldap_user.AuthenticationFailed("a local account has this user name")
        return user, built

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None and not user.is_active:
            user = directory_reactivate(user=user)
        if user is None or not user.is_active:
            return None  # like ModelBackend: no caller (the token endpoint included) gets an inactive user
        try:
            groups = {*ldap_user.group_names, *ldap_user.group_dns}
        except ldap.LDAPError as error:
            # Without its groups the login cannot know the user's tenants: refused. The account
            # is bound all the same, so that the next login finds it as the directory's.
            logger.warning("LDAP login of %r refused: its groups could not be read: %s", user.username, error)
            external_identity_bind(
                user=user, provider=ExternalIdentity.Provider.LDAP, issuer="", subject=user.username
            )
            return None
        external_login(
            user=user,
            provider=ExternalIdentity.Provider.LDAP,
            issuer="",
            subject=user.username,
            groups=groups,
            ip=client_ip(self.request) if self.request is not None else None,
        )
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
