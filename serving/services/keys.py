"""Endpoint keys, kept like API tokens (tenants.services.tokens): the key is shown once, the
database holds its SHA-256 and a prefix that finds the row, a key is revoked, never deleted."""

import secrets

from django.db import transaction
from django.utils import timezone

from common.errors import Invalid
from serving.models import Endpoint, EndpointKey
from tenants.models import User
from tenants.services.audit import audit_record
from tenants.services.tokens import key_mint, token_hash, token_split


@transaction.atomic
def endpoint_key_create(
    *, endpoint: Endpoint, actor: User, name: str, ip: str | None = None
) -> tuple[EndpointKey, str]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(
            fields={"name": ["Name the key (1 to 100 characters): what will call the endpoint with it?"]}
        )
    prefix, key = key_mint(taken=lambda prefix: EndpointKey.objects.filter(prefix=prefix).exists())
    row = EndpointKey.objects.create(
        endpoint=endpoint, name=name, prefix=prefix, key_hash=token_hash(key), created_by=actor
    )
    audit_record(
        actor=actor,
        action="endpoint.key.create",
        tenant=endpoint.tenant,
        target=endpoint,
        ip=ip,
        detail={"key": row.prefix, "name": name},
    )
    return row, key


@transaction.atomic
def endpoint_key_revoke(*, key: EndpointKey, actor: User, ip: str | None = None) -> EndpointKey:
    if key.revoked is not None:
        return key
    key.revoked = timezone.now()
    key.save(update_fields=["revoked"])
    audit_record(
        actor=actor,
        action="endpoint.key.revoke",
        tenant=key.endpoint.tenant,
        target=key.endpoint,
        ip=ip,
        detail={"key": key.prefix, "name": key.name},
    )
    return key


def endpoint_key_check(*, endpoint: Endpoint, presented: str) -> bool:
    """Whether `presented` is a live key of this endpoint (and of no other)."""
    parts = token_split(presented)
    if parts is None:
        return False
    row = EndpointKey.objects.filter(prefix=parts[0], endpoint=endpoint, revoked__isnull=True).first()
    if row is None or not secrets.compare_digest(row.key_hash, token_hash(presented)):
        return False
    now = timezone.now()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        EndpointKey.objects.filter(pk=row.pk).update(last_used=now)
    return True
