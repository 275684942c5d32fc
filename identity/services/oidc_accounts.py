"""Portal accounts for people who sign in through the OpenID provider."""

import re

from django.db import transaction

from identity.models import ExternalIdentity
from tenants.models import User
from tenants.services.audit import audit_record

_NOT_USERNAME = re.compile(r"[^\w.@+-]")


def _free_username(wanted: str) -> str:
    """`wanted` made a valid user name, with a number added when a local or other account has
    it already: a provider's account never takes over an account of the same name."""
    base = _NOT_USERNAME.sub("", wanted)[:140] or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


@transaction.atomic
def oidc_user_create(*, issuer: str, claims: dict) -> User:
    """A new user bound to the provider's `sub`; its name comes from the claims, no password."""
    wanted = claims.get("preferred_username") or claims.get("email", "").split("@")[0] or claims["sub"]
    user = User(
        username=_free_username(wanted),
        email=claims.get("email", ""),
        first_name=claims.get("given_name", "")[:150],
        last_name=claims.get("family_name", "")[:150],
    )
    user.set_unusable_password()
    user.save()
    ExternalIdentity.objects.create(
        user=user, provider=ExternalIdentity.Provider.OIDC, issuer=issuer, subject=claims["sub"]
    )
    audit_record(actor=user, action="user.create", target=user, detail={"via": "openid", "issuer": issuer})
    return user


def oidc_user_update(*, user: User, claims: dict) -> User:
    """Name and email follow the provider; the user name stays what it was."""
    fields = {
        "email": claims.get("email", user.email),
        "first_name": claims.get("given_name", user.first_name)[:150],
        "last_name": claims.get("family_name", user.last_name)[:150],
    }
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)
    return user
