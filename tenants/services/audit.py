"""The audit log: one call records one event. There is deliberately no update or delete here."""

import ipaddress
from functools import cache

from django.conf import settings
from django.db import models

from tenants.models import AuditEvent, Tenant, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    tenant: Tenant | None = None,
    target: models.Model | None = None,
    result: str = AuditEvent.Result.SUCCESS,
    ip: str | None = None,
    detail: dict | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> AuditEvent:
    """Record that `actor` (None: anonymous) did `action` ("sandbox.create") to `target`.

    `target` fills object_type ("app_label.model"), object_id and object_repr; the explicit
    arguments win, for objects that are gone or never existed (a failed login's username).
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_repr = object_repr or str(target)
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        tenant=tenant,
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:200],
        result=result,
        detail=detail or {},
        ip=ip,
    )


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client that sent `request`.

    X-Forwarded-For is anyone's to write, so it is believed only as far as trusted proxies
    (settings.TRUSTED_PROXIES, addresses or networks) vouch for it: walk it from the right,
    past each trusted hop, and the first untrusted address is the client. A request that did
    not come from a trusted proxy is answered with its own peer address.
    """
    peer = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    client = peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while _is_trusted(client, networks) and hops:
        hop = _parse_ip(hops.pop())
        if hop is None:
            break
        client = hop
    return str(client)
