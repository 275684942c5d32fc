"""Refused attempts to change something are audited too: a signed-in user's write that answers
403 (not allowed) or 404 (not theirs to see) becomes an audit event with result `denied`, in the
one place every page and API request passes. Reads are not recorded (they change nothing), nor
anonymous requests (anyone could fill the log with them; failed logins are recorded by axes)."""

from common.client_ip import client_ip
from tenants.models import AuditEvent
from tenants.services.audit import audit_record

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
REFUSED = (403, 404)


class RefusalAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # DRF sets it here for token-authenticated calls too
        if (
            request.method not in SAFE_METHODS
            and response.status_code in REFUSED
            and user is not None
            and user.is_authenticated
        ):
            audit_record(
                actor=user,
                action="request.denied",
                result=AuditEvent.Result.DENIED,
                ip=client_ip(request),
                detail={"method": request.method, "path": request.path[:300], "status": response.status_code},
            )
        return response
