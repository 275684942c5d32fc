"""The audit log: one call records one event. There is deliberately no update or delete here."""

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
