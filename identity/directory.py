"""The LDAP directory's search and connection settings, built from PORTAL_LDAP_* settings.

django-auth-ldap wants LDAPSearch and group-type objects; building them here rather than in
portal/settings keeps python-ldap out of the settings module and lets tests point the backend
at their own directory with plain override_settings."""

import ldap
from django.conf import settings
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
    PosixGroupType,
)

# The group type names PORTAL_LDAP_GROUP_TYPE accepts, with the object class their groups have.
GROUP_TYPES = {
    "groupOfNames": (GroupOfNamesType, "groupOfNames"),
    "groupOfUniqueNames": (GroupOfUniqueNamesType, "groupOfUniqueNames"),
    "posixGroup": (PosixGroupType, "posixGroup"),
    "activeDirectory": (ActiveDirectoryGroupType, "group"),
    "nestedActiveDirectory": (NestedActiveDirectoryGroupType, "group"),
}


def directory_settings() -> dict:
    """django-auth-ldap's settings (without the AUTH_LDAP_ prefix) that are objects."""
    group_type, object_class = GROUP_TYPES[settings.PORTAL_LDAP_GROUP_TYPE]
    options = {
        ldap.OPT_NETWORK_TIMEOUT: settings.PORTAL_LDAP_TIMEOUT_S,
        ldap.OPT_TIMEOUT: settings.PORTAL_LDAP_TIMEOUT_S,
        # Active Directory answers searches of the domain root with referrals the portal's bind
        # cannot follow.
        ldap.OPT_REFERRALS: 0,
    }
    if settings.PORTAL_LDAP_CA_FILE:
        options[ldap.OPT_X_TLS_CACERTFILE] = settings.PORTAL_LDAP_CA_FILE
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    found = {
        "USER_SEARCH": LDAPSearch(
            settings.PORTAL_LDAP_USER_SEARCH_BASE, ldap.SCOPE_SUBTREE, settings.PORTAL_LDAP_USER_FILTER
        ),
        "GROUP_TYPE": group_type(),
        "CONNECTION_OPTIONS": options,
    }
    if settings.PORTAL_LDAP_GROUP_SEARCH_BASE:
        found["GROUP_SEARCH"] = LDAPSearch(
            settings.PORTAL_LDAP_GROUP_SEARCH_BASE, ldap.SCOPE_SUBTREE, f"(objectClass={object_class})"
        )
    return found


def is_unreachable(error: ldap.LDAPError) -> bool:
    """The directory did not answer (down, refused, timed out), as against answering no."""
    return isinstance(error, ldap.SERVER_DOWN | ldap.TIMEOUT | ldap.CONNECT_ERROR)
