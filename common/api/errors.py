"""The API's error format: every error body has `detail` (for people) and `code` (for
programs). A service's refusal (common.errors.ServiceError) adds its `fields` and `extra`
(validation: the field errors; over quota: what was hit); DRF's and Django's own errors keep
their field errors the same way. This is the one place that turns an error into an answer."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from common.errors import Invalid, ServiceError


def _first_message(errors) -> str:
    """The first message of a (nested) DRF error structure, for `detail`."""
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else "Invalid input."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        super().__init__(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def error_response(*, detail: str, code: str, http_status: int) -> JsonResponse:
    """The error format for answers given outside DRF views (middleware, URL not found)."""
    return JsonResponse({"detail": detail, "code": code}, status=http_status)


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def not_found_handler(request, exception=None):
    """handler404: an unknown /api/ URL answers in the API's format, pages keep Django's."""
    if is_api_request(request):
        return error_response(detail="Not found.", code="not_found", http_status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error_handler(request):
    if is_api_request(request):
        return error_response(
            detail="Internal server error: the portal's logs say more.",
            code="server_error",
            http_status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)


def service_error_body(error: ServiceError) -> dict:
    """A 400's `detail` is its first problem, as for every other validation error the API
    answers (serializers', filters'); other refusals say their message."""
    fields = {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: (
            messages if isinstance(messages, list) else [messages]
        )
        for field, messages in error.fields.items()
    }
    detail = _first_message(fields) if isinstance(error, Invalid) and fields else error.message
    return {"detail": detail, "code": error.code, **fields, **error.extra}


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        set_rollback()
        return Response(service_error_body(exc), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _first_message(errors), "code": "invalid", **errors}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else "error"
        if not isinstance(response.data, dict) or "detail" not in response.data:
            response.data = {"detail": _first_message(response.data), "code": code}
        response.data["code"] = code
    return response
