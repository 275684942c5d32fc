"""The create throttle: POSTs to `@api_create` handlers, counted per API token (or per user for
session and OAuth callers) in the shared cache, so every web worker counts the same requests.
Rate: settings.PORTAL_CREATE_RATE, e.g. "60/min"; over it answers 429 with Retry-After."""

from django.apps import apps
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from common.api.idempotency import is_api_create


class CreateRateThrottle(SimpleRateThrottle):
    scope = "create"

    def get_rate(self):
        # DRF makes a throttle per request, so the setting is read per request (tests change it).
        return settings.PORTAL_CREATE_RATE

    def allow_request(self, request, view):
        if not is_api_create(view, request.method):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        # Tokens are a model of `tenants`, looked up by name: this package imports no app of ours.
        if isinstance(request.auth, apps.get_model("tenants", "Token")):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
