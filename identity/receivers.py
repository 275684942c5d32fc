"""django-auth-ldap reports a directory that fails through its `ldap_error` signal and then
answers "no user"; this marks the request so that the login page can tell a directory that is
down, or refuses the portal's own bind, from a wrong password."""

from django.dispatch import receiver
from django_auth_ldap.backend import LDAPBackend, ldap_error

from identity.directory import is_unreachable


@receiver(ldap_error, dispatch_uid="identity.directory_error")
def mark_directory_error(sender, context, user, request, exception, **kwargs):
    if request is not None and issubclass(sender, LDAPBackend):
        request.directory_error = "unreachable" if is_unreachable(exception) else "failed"
