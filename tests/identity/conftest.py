"""A real OpenLDAP directory (tests.identity.directory) and a real OpenID provider
(tests.identity.provider), started on loopback for the identity tests and stopped after them."""

import pytest

from identity.backends.ldap import DirectoryBackend
from tenants.tests.factories import UserFactory
from tests.identity import directory as test_directory

LOCKOUT = "tenants.auth_backends.LockoutBackend"
MODEL = "django.contrib.auth.backends.ModelBackend"
LDAP = f"{DirectoryBackend.__module__}.{DirectoryBackend.__name__}"
OIDC = "identity.backends.oidc.OpenIDBackend"


@pytest.fixture(scope="session")
def directory():
    running = test_directory.directory_start()
    yield running
    running.stop()


def point_at_directory(settings, url: str, *, bind_password: str = test_directory.SERVICE_PASSWORD) -> None:
    settings.PORTAL_LDAP_ENABLED = True
    settings.AUTH_LDAP_SERVER_URI = url
    settings.AUTH_LDAP_BIND_DN = test_directory.SERVICE_DN
    settings.AUTH_LDAP_BIND_PASSWORD = bind_password
    settings.PORTAL_LDAP_USER_SEARCH_BASE = test_directory.PEOPLE
    settings.PORTAL_LDAP_GROUP_SEARCH_BASE = test_directory.GROUPS
    settings.PORTAL_LDAP_GROUP_TYPE = "groupOfNames"
    settings.AUTH_LDAP_DENY_GROUP = test_directory.DISABLED_GROUP
    settings.PORTAL_LDAP_TIMEOUT_S = 3
    settings.AUTHENTICATION_BACKENDS = [LOCKOUT, MODEL, LDAP]


@pytest.fixture
def ldap_settings(settings, directory):
    point_at_directory(settings, directory.url)
    return settings


@pytest.fixture
def local_admin(db):
    return UserFactory(username="siteadmin", is_site_admin=True)


@pytest.fixture(scope="session")
def provider(live_server):
    from tests.identity.provider import provider_start

    running = provider_start(portal_urls=["http://testserver", live_server.url])
    yield running
    running.stop()


@pytest.fixture
def oidc_settings(settings, provider):
    from tests.identity import provider as test_provider

    settings.PORTAL_OIDC_ENABLED = True
    settings.PORTAL_OIDC_ISSUER = provider.issuer
    settings.PORTAL_OIDC_PROVIDER_NAME = "Example SSO"
    settings.OIDC_RP_CLIENT_ID = test_provider.CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = test_provider.CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid profile email groups"
    settings.AUTHENTICATION_BACKENDS = [LOCKOUT, MODEL, OIDC]
    return settings
