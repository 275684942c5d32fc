"""Sign-in with the organisation's accounts, from PORTAL_* variables (README, Configuration).

Both providers are off by default: LDAP comes on with PORTAL_LDAP_SERVER_URI, OpenID Connect
with PORTAL_OIDC_ISSUER. Local accounts keep working beside them, so that a site admin can
still sign in when the directory or the provider is down.
"""

import json

from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_str

# Group → tenant role / site admin mappings that come with the deployment, beside those that
# site admins keep in the UI and API: a JSON list of {"group", "tenant", "role"} (role: member
# or admin) and {"group", "site_admin": true}.
try:
    PORTAL_GROUP_MAPPINGS = json.loads(env_str("PORTAL_GROUP_MAPPINGS", "[]"))
except ValueError as error:
    raise ImproperlyConfigured(f"PORTAL_GROUP_MAPPINGS is not valid JSON: {error}") from error

# Whether the login page shows the user name / password form (local and LDAP accounts). A site
# that signs everybody in through its OpenID provider may hide it; /login/?local=1 still shows it.
PORTAL_LOGIN_PASSWORD_FORM = env_bool("PORTAL_LOGIN_PASSWORD_FORM", True)

# LDAP / Active Directory (django-auth-ldap). The portal binds with the service account, finds
# the user under the user search base, binds as the user to check the password (the password is
# never stored) and reads the user's groups under the group search base.
PORTAL_LDAP_ENABLED = bool(env_str("PORTAL_LDAP_SERVER_URI", ""))
AUTH_LDAP_SERVER_URI = env_str("PORTAL_LDAP_SERVER_URI", "")
AUTH_LDAP_BIND_DN = env_str("PORTAL_LDAP_BIND_DN", "")
AUTH_LDAP_BIND_PASSWORD = env_str("PORTAL_LDAP_BIND_PASSWORD", "")
AUTH_LDAP_START_TLS = env_bool("PORTAL_LDAP_START_TLS", False)
PORTAL_LDAP_USER_SEARCH_BASE = env_str("PORTAL_LDAP_USER_SEARCH_BASE", "")
# %(user)s is the typed user name, escaped by django-auth-ldap. Active Directory:
# (&(sAMAccountName=%(user)s)(!(userAccountControl:1.2.840.113556.1.4.803:=2))) also refuses
# disabled accounts.
PORTAL_LDAP_USER_FILTER = env_str("PORTAL_LDAP_USER_FILTER", "(uid=%(user)s)")
PORTAL_LDAP_GROUP_SEARCH_BASE = env_str("PORTAL_LDAP_GROUP_SEARCH_BASE", "")
# groupOfNames, groupOfUniqueNames, posixGroup, activeDirectory or nestedActiveDirectory.
PORTAL_LDAP_GROUP_TYPE = env_str("PORTAL_LDAP_GROUP_TYPE", "groupOfNames")
# Members of this group (a DN) cannot sign in: the usual way to disable an OpenLDAP account.
AUTH_LDAP_DENY_GROUP = env_str("PORTAL_LDAP_DENY_GROUP", "") or None
# A CA bundle for LDAPS / StartTLS with a private CA; empty: the system's.
PORTAL_LDAP_CA_FILE = env_str("PORTAL_LDAP_CA_FILE", "")
# Seconds before an unreachable directory counts as down (the login page then says so).
PORTAL_LDAP_TIMEOUT_S = env_int("PORTAL_LDAP_TIMEOUT_S", 5)
AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
AUTH_LDAP_ALWAYS_UPDATE_USER = True
AUTH_LDAP_FIND_GROUP_PERMS = False
AUTH_LDAP_MIRROR_GROUPS = False

# OpenID Connect (mozilla-django-oidc): authorization code flow with PKCE, state and nonce. The
# provider's endpoints come from its discovery document (identity.oidc).
PORTAL_OIDC_ENABLED = bool(env_str("PORTAL_OIDC_ISSUER", ""))
PORTAL_OIDC_ISSUER = env_str("PORTAL_OIDC_ISSUER", "").rstrip("/")
PORTAL_OIDC_PROVIDER_NAME = env_str("PORTAL_OIDC_PROVIDER_NAME", "single sign-on")
PORTAL_OIDC_GROUP_CLAIM = env_str("PORTAL_OIDC_GROUP_CLAIM", "groups")
OIDC_RP_CLIENT_ID = env_str("PORTAL_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("PORTAL_OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = env_str("PORTAL_OIDC_SCOPES", "openid profile email")
OIDC_RP_SIGN_ALGO = env_str("PORTAL_OIDC_SIGN_ALGO", "RS256")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
# Kept for the provider's end-session endpoint (id_token_hint) at logout.
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
OIDC_TIMEOUT = env_int("PORTAL_OIDC_TIMEOUT_S", 10)
OIDC_CA_BUNDLE = env_str("PORTAL_OIDC_CA_FILE", "") or True
OIDC_VERIFY_SSL = OIDC_CA_BUNDLE
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"

IDENTITY_BACKENDS = [
    *(["identity.backends.ldap.DirectoryBackend"] if PORTAL_LDAP_ENABLED else []),
    *(["identity.backends.oidc.OpenIDBackend"] if PORTAL_OIDC_ENABLED else []),
]
