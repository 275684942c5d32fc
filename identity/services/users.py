"""Local accounts for small sites, and turning any account off and on again.

A deactivated user can no longer sign in by any means; their sessions (and so the gateway,
which asks the portal about each request) and API tokens stop at once. Their sandboxes and
memberships stay, so tenant admins keep seeing (and can clean up) what they left."""

from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid
from identity.models import Account
from tenants.models import User
from tenants.services.audit import audit_record


def _check_password(password: str, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise Invalid(fields={field: list(error.messages)}) from error


def _sessions_end(user: User) -> None:
    """Delete every session that holds `user`. Sessions are opaque rows, so each live one is read."""
    user_id = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    Session.objects.filter(pk__in=ended).delete()


def _temporary_password_set(user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    Account.objects.update_or_create(user=user, defaults={"must_change_password": True})


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_site_admin: bool = False,
    ip: str | None = None,
) -> User:
    """A local account with a temporary password that its owner must change at first login."""
    if User.objects.filter(username__iexact=username).exists():
        raise Invalid(fields={"username": [f"A user named {username!r} exists already."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_site_admin=is_site_admin,
    )
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        raise Invalid(fields=error.message_dict) from error
    _check_password(password, user)
    user.save()
    _temporary_password_set(user, password)
    audit_record(
        actor=actor,
        action="user.create",
        target=user,
        ip=ip,
        detail={"username": username, "site_admin": is_site_admin},
    )
    return user


@transaction.atomic
def user_set_active(
    *, actor: User | None, user: User, is_active: bool, ip: str | None = None, reason: str = ""
) -> User:
    """`actor` None: the portal itself (the directory check, a directory login), saying `reason`."""
    if user.is_active == is_active:
        return user
    if not is_active and actor is not None and user.pk == actor.pk:
        raise Conflict("You cannot deactivate your own account.", fields={"is_active": ["That is you."]})
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    if not is_active:
        _sessions_end(user)
    else:
        Account.objects.filter(user=user).update(deactivated_by_directory=False)
    audit_record(
        actor=actor,
        action="user.reactivate" if is_active else "user.deactivate",
        target=user,
        ip=ip,
        detail={"reason": reason} if reason else None,
    )
    return user


@transaction.atomic
def user_set_temporary_password(*, actor: User, user: User, password: str, ip: str | None = None) -> User:
    """A site admin's reset: the old password and every session end, and the user must choose a
    new password at next login."""
    if not user.has_usable_password() and user.external_identities.exists():
        raise Conflict(
            f"{user.username} signs in through the organisation's directory or provider, "
            "which keeps the password.",
            fields={"password": ["This account has no portal password."]},
        )
    _check_password(password, user)
    _temporary_password_set(user, password)
    _sessions_end(user)
    audit_record(actor=actor, action="user.password_reset", target=user, ip=ip)
    return user


@transaction.atomic
class PasswordChangeRequired(Forbidden):
    code = "password_change_required"


def api_login_check(*, user: User) -> None:
    """A temporary password opens the password page only: no API token until it is changed
    (tenants' token login calls this through settings.PORTAL_API_LOGIN_CHECKS)."""
    if Account.objects.filter(user=user, must_change_password=True).exists():
        raise PasswordChangeRequired(
            "Your password is temporary: sign in to the portal and change it before asking for a token."
        )


def password_change(*, user: User, old_password: str, new_password: str, ip: str | None = None) -> User:
    """A user's change of their own password."""
    if not user.has_usable_password():
        raise Conflict(
            "Your password is kept by the organisation's directory or provider: change it there.",
            fields={"old_password": ["This account has no portal password."]},
        )
    if not user.check_password(old_password):
        raise Invalid(fields={"old_password": ["That is not your current password."]})
    if new_password == old_password:
        raise Invalid(fields={"new_password": ["Choose a password different from the current one."]})
    _check_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    Account.objects.update_or_create(user=user, defaults={"must_change_password": False})
    audit_record(actor=user, action="user.password_change", target=user, ip=ip)
    return user
