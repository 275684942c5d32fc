"""Audit of logins. The login views are Django's own (browser, admin) and the token endpoint
goes through `authenticate()` as well, so the auth signals are the one hook that sees them all."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from common.client_ip import client_ip
from tenants.models import AuditEvent
from tenants.services.audit import audit_record


@receiver(user_logged_in, dispatch_uid="tenants.audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="auth.login", target=user, ip=client_ip(request) if request else None)


@receiver(user_logged_out, dispatch_uid="tenants.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(
            actor=user, action="auth.logout", target=user, ip=client_ip(request) if request else None
        )


@receiver(user_login_failed, dispatch_uid="tenants.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD, "")
    locked_out = bool(getattr(request, "axes_locked_out", False))
    audit_record(
        actor=None,
        action="auth.login_failed",
        result=AuditEvent.Result.DENIED if locked_out else AuditEvent.Result.FAILURE,
        object_type="tenants.user",
        object_repr=username,
        detail={"locked_out": locked_out},
        ip=client_ip(request) if request is not None else None,
    )
