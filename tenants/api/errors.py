"""The API's error format: every error body has `detail` (for people) and `code` (for
programs). Validation errors also keep DRF's field errors; over quota adds what was hit."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ServiceError
from tenants.quota import QuotaExceeded


def _first_message(errors) -> str:
    """The first message of a (nested) DRF error structure, for `detail`."""
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else "Invalid input."


class Conflict(exceptions.APIException):
    """409: the object's state, or what uses it, does not allow the request; `code` says which."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


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


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(
            {"detail": exc.message, "code": exc.code, **exc.fields, **exc.extra}, status=exc.status
        )
    if isinstance(exc, QuotaExceeded):
        return Response(
            {
                "detail": str(exc),
                "code": "quota_exceeded",
                "tenant": exc.tenant,
                "dimension": exc.dimension,
                "limit": exc.limit,
                "in_use": exc.in_use,
                "requested": exc.requested,
            },
            status=status.HTTP_409_CONFLICT,
        )
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
