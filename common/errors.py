"""The one error vocabulary of the portal. Every error a service raises for its callers
subclasses `ServiceError`; one DRF exception handler and one form adapter turn it into an
answer, so no view, API view or task translates errors of its own."""

from typing import ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class ServiceError(Exception):
    """A refusal a caller can show as it is: nothing was changed.

    `code` is for programs (the API's `code`), `status` the HTTP status the API answers,
    `message` the plain-language sentence for people, `fields` maps a field of the request to
    its messages (empty when the refusal is about the request as a whole), and `extra` adds
    machine-readable facts to the API's body (e.g. the quota limit that was hit)."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: str = "", *, fields: dict[str, list[str]] | None = None, **extra):
        self.fields = fields or {}
        self.extra = extra
        self.message = message or "; ".join(f"{f}: {' '.join(m)}" for f, m in self.fields.items())
        super().__init__(self.message)


class Invalid(ServiceError):
    """Bad input (400); `fields` names what is wrong."""

    code = "invalid"
    status = 400

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> "Invalid":
        """Django's own validation (a model's `full_clean`) in the services' vocabulary; errors
        about no one field keep Django's `NON_FIELD_ERRORS` key."""
        fields = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        return cls(fields=fields)


class NotFound(ServiceError):
    """Something the request names does not exist for the caller (404): another tenant's
    objects answer exactly like missing ones."""

    code = "not_found"
    status = 404


class Forbidden(ServiceError):
    """The caller may see the object but not do this to it (403)."""

    code = "permission_denied"
    status = 403


class Conflict(ServiceError):
    """The object's state, or what uses it, does not allow the request (409)."""

    code = "conflict"
    status = 409


class Unavailable(ServiceError):
    """A service the request needs (an engine, the registry, a directory) does not answer (503)."""

    code = "unavailable"
    status = 503
