"""Response headers that tell browsers to trust nothing but the portal's own files.

Django's SecurityMiddleware and XFrameOptionsMiddleware already send X-Content-Type-Options,
Referrer-Policy, Cross-Origin-Opener-Policy and X-Frame-Options; this adds the
Content-Security-Policy and the Permissions-Policy, on every response (pages, API, static files)
so that no page can be the one that forgot them."""

from urllib.parse import urlsplit

from django.conf import settings


def content_security_policy() -> str:
    """Scripts, styles, images and fonts come from the portal only; no inline script runs.

    Inline `style` attributes stay allowed (`style-src-attr`): the templates size progress bars
    and charts with them, and an attribute style can neither run script nor read the page.
    Forms post to the portal; logging out of the portal redirects to the OpenID provider's
    end-session endpoint when one is set."""
    form_targets = ["'self'"]
    if settings.PORTAL_OIDC_ENABLED:
        origin = urlsplit(settings.PORTAL_OIDC_ISSUER)
        if origin.scheme and origin.netloc:
            form_targets.append(f"{origin.scheme}://{origin.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its icons as data: SVGs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": form_targets,
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


#: Browser features no portal page uses; a script injected into one gets none of them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    """Outermost middleware: it also covers responses that WhiteNoise answers by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Built per response (a few string joins) so that it follows the settings in force.
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # WhiteNoise answers static files before XFrameOptionsMiddleware sees them.
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response
