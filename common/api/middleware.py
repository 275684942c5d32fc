"""The API's cap on request bodies. Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when a view
reads `request.body` or a form; DRF's parsers read the stream and would take any size."""

from django.conf import settings
from rest_framework import status

from common.api.errors import error_response, is_api_request


class ApiBodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_request(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                return error_response(
                    detail=f"The request body is larger than {limit} bytes.",
                    code="payload_too_large",
                    http_status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                )
        return self.get_response(request)
