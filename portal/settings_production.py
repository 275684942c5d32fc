"""Settings of a production deploy: `DJANGO_SETTINGS_MODULE=portal.settings_production`.

The portal runs behind a TLS-terminating reverse proxy (nginx, a load balancer) that sets
X-Forwarded-Proto. Every secret comes from the environment and has no default here: a deploy
that forgot one fails at start-up instead of running with a guessable value.

Required: PORTAL_SECRET_KEY (50+ random characters), PORTAL_DB_PASSWORD, PORTAL_ALLOWED_HOSTS.
Optional: PORTAL_HSTS_SECONDS (default one year), PORTAL_HSTS_PRELOAD (default on),
PORTAL_SSL_REDIRECT (default on), PORTAL_PROXY_SSL_HEADER (default X-Forwarded-Proto; empty when
no proxy sets it).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_str
from portal.settings import *  # noqa: F403
from portal.settings import DATABASES


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise ImproperlyConfigured(f"{name} must be set in the environment of a production deploy")
    return value


DEBUG = False
SECRET_KEY = _required("PORTAL_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("PORTAL_SECRET_KEY: use 50 or more random characters")
ALLOWED_HOSTS = [host.strip() for host in _required("PORTAL_ALLOWED_HOSTS").split(",") if host.strip()]
DATABASES["default"]["PASSWORD"] = _required("PORTAL_DB_PASSWORD")

# TLS ends at the proxy; it tells us the original scheme. Believed only because the portal
# listens on loopback (PORTAL_BIND) where only the proxy reaches it.
_proxy_header = env_str("PORTAL_PROXY_SSL_HEADER", "X-Forwarded-Proto")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)
SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", True)
# Health probes and Prometheus scrape the web process directly, over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("PORTAL_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("PORTAL_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_SAMESITE = "Lax"
