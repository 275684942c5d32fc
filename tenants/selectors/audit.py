from django.core.exceptions import PermissionDenied

from common.errors import Invalid
from tenants.filtersets import AuditEventFilterSet
from tenants.models import AuditEvent, AuditEventQuerySet, Membership


def audit_can_view(*, user) -> bool:
    """Site admins and tenant admins read the audit log; members do not (not even their own
    events: the log is an oversight tool, and sandbox history has its own pages)."""
    return user.is_authenticated and (
        user.is_site_admin or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    )


def audit_event_list(*, user, filters: dict | None = None) -> AuditEventQuerySet:
    """The audit events `user` may read, filtered (see AuditEventFilterSet). Site admins read all
    of them; tenant admins their tenants' (events without a tenant, such as logins, are the site
    admins'). Raises PermissionDenied for anyone else and Invalid for a bad filter."""
    if not audit_can_view(user=user):
        raise PermissionDenied("Only site admins and tenant admins can read the audit log.")
    events = AuditEvent.objects.administered_by(user).select_related("tenant")
    filterset = AuditEventFilterSet(data=filters or {}, queryset=events)
    if not filterset.is_valid():
        raise Invalid(fields={field: list(messages) for field, messages in filterset.errors.items()})
    return filterset.qs
