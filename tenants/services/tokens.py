"""Personal API tokens. The key is shown once, at creation; the database keeps its SHA-256
(a random 256-bit key needs no slow hash) and a prefix to find the row."""

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from common.client_ip import client_ip
from common.errors import Invalid, ServiceError
from tenants.models import Token, User
from tenants.services.audit import audit_record

PREFIX_BYTES = 6  # 12 hex characters: collisions are practically impossible and retried anyway


class InvalidCredentials(Invalid):
    code = "invalid_credentials"


class LockedOut(ServiceError):
    """Too many failed logins for the account, or from the client's address (axes): 429, like
    the create throttle."""

    code = "locked_out"
    status = 429


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_split(key: str) -> tuple[str, str] | None:
    """The prefix of a presented key, or None when it cannot be one of ours."""
    prefix, dot, secret = key.partition(".")
    if not dot or len(prefix) != PREFIX_BYTES * 2 or not secret:
        return None
    return prefix, secret


def token_expiry(*, expires: datetime | None, minted_with: Token | None = None) -> datetime:
    """When a new token expires: at `expires`, or at the latest moment allowed when none is
    asked for. Every token ends within the site's maximum lifetime, and a token minted with
    another token ends no later than that one, so a short login token cannot mint a key that
    outlives it."""
    now = timezone.now()
    latest = now + timedelta(days=settings.TOKEN_MAX_DAYS)
    limit = f"the site's maximum token lifetime ({settings.TOKEN_MAX_DAYS} days, {latest.isoformat()})"
    if minted_with is not None and minted_with.expires is not None and minted_with.expires < latest:
        latest = minted_with.expires
        limit = f"the expiry of the token this request was made with ({latest.isoformat()})"
    if expires is None:
        return latest
    if expires <= now:
        raise Invalid(fields={"expires": ["Choose a time in the future."]})
    if expires > latest:
        raise Invalid(fields={"expires": [f"Choose a time no later than {limit}."]})
    return expires


def key_mint(*, taken: Callable[[str], bool]) -> tuple[str, str]:
    """A new secret key `<prefix>.<secret>` and its prefix. The prefix finds the key's row, so
    it must be one `taken` says no row holds yet; the database keeps only the key's hash."""
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if not taken(prefix):
            return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    expires: datetime | None = None,
    minted_with: Token | None = None,
    ip: str | None = None,
) -> tuple[Token, str]:
    """Create a token for `user`, expiring as `token_expiry` decides. Returns it with its key,
    which nobody can read again."""
    expires = token_expiry(expires=expires, minted_with=minted_with)
    prefix, key = key_mint(taken=lambda prefix: Token.objects.filter(prefix=prefix).exists())
    token = Token.objects.create(
        user=user, name=name, prefix=prefix, key_hash=token_hash(key), expires=expires
    )
    audit_record(
        actor=user,
        action="token.create",
        target=token,
        ip=ip,
        detail={"name": name, "expires": expires.isoformat()},
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor: User, token: Token, ip: str | None = None) -> Token:
    """Revoke a token for good; the row stays, so the audit trail can still name it."""
    if token.revoked is not None:
        return token
    token.revoked = timezone.now()
    token.save(update_fields=["revoked"])
    audit_record(actor=actor, action="token.revoke", target=token, ip=ip, detail={"name": token.name})
    return token


def token_obtain(*, request, username: str, password: str) -> tuple[Token, str]:
    """POST /api/v1/auth/token/: exchange a password for a new token that expires (after
    API_LOGIN_TOKEN_HOURS, or the site's maximum lifetime when that is shorter).

    Goes through `authenticate()` with the request, so a failure counts toward lockout and is
    audited like a failed browser login.
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise LockedOut("Too many failed logins for this account or from this address: try again later.")
        raise InvalidCredentials("Wrong username or password.")
    # Rules of other apps about who may sign in this way (e.g. identity: a temporary password
    # must be changed first), named in settings so that tenants imports none of them.
    for check in settings.PORTAL_API_LOGIN_CHECKS:
        import_string(check)(user=user)
    ip = client_ip(request)
    expires = min(
        timezone.now() + timedelta(hours=settings.API_LOGIN_TOKEN_HOURS),
        timezone.now() + timedelta(days=settings.TOKEN_MAX_DAYS),
    )
    token, key = token_create(user=user, name="auth/token", expires=expires, ip=ip)
    audit_record(actor=user, action="auth.login", target=user, ip=ip, detail={"via": "api"})
    return token, key


def token_authenticate(*, key: str) -> Token | None:
    """The live token that `key` is, or None. Marks it used (at most once a minute, so that a
    busy script does not write on every request)."""
    parts = token_split(key)
    if parts is None:
        return None
    token = Token.objects.select_related("user").filter(prefix=parts[0]).first()
    if token is None or not secrets.compare_digest(token.key_hash, token_hash(key)):
        return None
    now = timezone.now()
    if token.revoked is not None or (token.expires is not None and token.expires <= now):
        return None
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        Token.objects.filter(pk=token.pk).update(last_used=now)
    return token
