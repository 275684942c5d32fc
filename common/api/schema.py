"""The OpenAPI schema's shared parts: the error format, and the errors and headers every
operation documents without saying so itself."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from common.api.idempotency import HEADER, is_api_create


class ErrorSerializer(serializers.Serializer):
    """Every error answer: `detail` for people, `code` for programs. A 400 adds the field
    errors (field name: list of messages); a 409 over quota adds `dimension`, `limit`,
    `in_use` and `requested`; other errors may add what they name (e.g. `sandboxes`)."""

    detail = serializers.CharField()
    code = serializers.CharField()

    class Meta:
        ref_name = "Error"


_ERRORS = {
    "400": "Invalid input (body, filter or header): `code` is `invalid` and each bad field "
    "lists its messages.",
    "401": "No credentials, or a wrong, expired or revoked token.",
    "403": "Authenticated, but the role does not allow this (e.g. a member on an admin action).",
    "404": "No such object, or one the caller may not see (another tenant's).",
    "409": "A conflict: over quota (`quota_exceeded`, naming the limit hit), or an object's "
    "state does not allow this (`state_conflict`), or it is in use (`in_use`).",
    "413": "The request body is larger than the portal accepts.",
    "415": "The body's content type is not JSON (or a form).",
    "422": "`idempotency_key_reused`: the Idempotency-Key was used before with another body.",
    "429": "Too many creates (or failed logins): retry after the `Retry-After` header's seconds.",
}


class PortalAutoSchema(AutoSchema):
    """Documents on every operation the errors that the API's shared machinery answers (error
    handler, permissions, throttle, idempotency), and the Idempotency-Key header of creates, so
    that endpoints added later are documented without repeating any of it."""

    def _is_create(self) -> bool:
        return is_api_create(self.view, self.method)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_create():
            parameters = [
                *parameters,
                OpenApiParameter(
                    HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="Any unique string (e.g. a UUID): a retry with the same key and "
                    "body answers the first result instead of creating again (kept 24 h).",
                ),
            ]
        return parameters

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404"]  # a GET's 400: a filter with a bad value
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self.method == "POST":
            codes.append("429")
        if self._is_create():
            codes.append("422")
        if not self.get_auth():
            codes.remove("401")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in sorted(self._error_codes()):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERRORS[code]), code, direction=direction
                )
        return responses
