"""The API's error format: every error body has `detail` (for people) and `code` (for
programs). Validation errors also keep DRF's field errors; over quota adds what was hit."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.quota import QuotaExceeded


def _first_message(errors) -> str:
    """The first message of a (nested) DRF error structure, for `detail`."""
    while isinstance(errors, dict | list) and errors:
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors) if errors else "Invalid input."


def exception_handler(exc, context):
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

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _first_message(errors), "code": "invalid", **errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        response.data["code"] = codes if isinstance(codes, str) else "error"
    return response
