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
    MemberDNGroupType,
    NestedActiveDirectoryGroupType,
    NestedMemberDNGroupType,
    PosixGroupType,
)

from common.errors import Unavailable

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


class DirectoryUnavailable(Unavailable):
    code = "directory_unavailable"


def _connect() -> ldap.ldapobject.LDAPObject:
    connection = ldap.initialize(settings.AUTH_LDAP_SERVER_URI, bytes_mode=False)
    for option, value in directory_settings()["CONNECTION_OPTIONS"].items():
        connection.set_option(option, value)
    if settings.AUTH_LDAP_START_TLS:
        connection.start_tls_s()
    connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
    return connection


def _denied(connection, group_type, *, dn: str, username: str) -> bool:
    group = settings.AUTH_LDAP_DENY_GROUP
    if not group:
        return False
    if isinstance(group_type, MemberDNGroupType | NestedMemberDNGroupType):
        attribute, value = group_type.member_attr, dn
    else:
        attribute, value = "memberUid", username
    try:
        return bool(connection.compare_s(group, attribute, value))
    except ldap.NO_SUCH_OBJECT:
        return False


def directory_account_states(*, usernames: list[str]) -> dict[str, bool]:
    """Whether the directory still lets each user sign in: found by the user search (which on
    Active Directory also leaves out disabled accounts) and not in the deny group. One bind for
    all; raises DirectoryUnavailable rather than answer for a directory it could not ask."""
    found = directory_settings()
    try:
        connection = _connect()
        try:
            states = {}
            for username in usernames:
                results = found["USER_SEARCH"].execute(connection, {"user": username})
                states[username] = len(results) == 1 and not _denied(
                    connection, found["GROUP_TYPE"], dn=results[0][0], username=username
                )
            return states
        finally:
            connection.unbind_s()
    except ldap.LDAPError as error:
        raise DirectoryUnavailable(f"The directory could not be asked: {error}") from error
