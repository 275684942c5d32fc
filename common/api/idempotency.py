"""Creates over the API: `@api_create` on a view's `post` gives it the `Idempotency-Key` header,
the create throttle (common.api.throttling) and their documentation in the schema.
The records are a model of `tenants` (they belong to users); this package imports no app of
ours, so it looks the model up by name.

A retried POST with the same key and the same body, by the same user, answers the first
response again (same status and body, header `Idempotent-Replayed: true`) and creates nothing;
the same key with another body or on another endpoint answers 422 `idempotency_key_reused`.
The record is inserted before the create runs, in the create's transaction: a concurrent
duplicate blocks on the (user, key) unique index until the first commits, then replays its
answer; if the first fails, its record rolls back with it and the key stays free for a retry.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used with another request body or endpoint; "
        "use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def request_fingerprint(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form body
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable characters, e.g. a UUID."]}
        )
    return key


def _records():
    return apps.get_model("tenants", "IdempotencyRecord").objects


def _claim(*, user, key: str, fingerprint: str):
    """Insert the record, or lock the one a previous request left (waiting for it to commit)."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    _records().filter(user=user, created__lt=cutoff).delete()
    try:
        with transaction.atomic():
            return _records().create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return _records().select_for_update().get(user=user, key=key)


def api_create(post=None, *, secret_fields: tuple[str, ...] = ()):
    """Mark a view's `post` as a create. `secret_fields` are left out of the stored answer (a
    new token's key is never stored in clear), so a replay answers without them."""

    def decorate(handler):
        @wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            key = _key_of(request)
            if key is None or not request.user.is_authenticated:
                return handler(view, request, *args, **kwargs)
            fingerprint = request_fingerprint(request)
            with transaction.atomic():
                record = _claim(user=request.user, key=key, fingerprint=fingerprint)
                if record.status_code is not None:
                    if record.fingerprint != fingerprint:
                        raise IdempotencyKeyReused()
                    return Response(
                        record.response_body,
                        status=record.status_code,
                        headers={"Idempotent-Replayed": "true"},
                    )
                response = handler(view, request, *args, **kwargs)
                if not status.is_success(response.status_code):
                    # Only answers that created something are kept: an error rolls back with
                    # the record, and the client may retry with the same key.
                    transaction.set_rollback(True)
                    return response
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                if isinstance(body, dict):
                    body = {name: value for name, value in body.items() if name not in secret_fields}
                record.status_code = response.status_code
                record.response_body = body
                record.save(update_fields=["status_code", "response_body"])
            return response

        wrapper.api_create = True
        return wrapper

    return decorate(post) if post is not None else decorate


def is_api_create(view, method: str) -> bool:
    return method == "POST" and getattr(getattr(view, "post", None), "api_create", False)
