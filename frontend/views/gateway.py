"""The portal's side of the gateway (nginx, deploy/gateway/): the answer to its auth_request for
every request under /gateway/, and the way back to the gateway after a login.

nginx proxies only on a 2xx and shows only 401 and 403 of this answer, so a refusal is a 403
whose X-Gateway-Status says which answer the browser gets (403, 404 or 503); a 401 carries the
login URL to send the browser to."""

import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.errors import Forbidden, NotFound, Unavailable
from provisioning.services.gateway import GATEWAY_PATH, gateway_pass
from serving.services.gateway import EndpointKeyRefused, endpoint_pass
from tracking.services import tracking_gateway_pass, tracking_is_gateway_path


@never_cache
@require_GET
def gateway_auth(request):
    # Only the gateway may ask: the answer carries the upstream's address and secret.
    secret = request.headers.get("X-Gateway-Secret", "")
    if not settings.GATEWAY_SECRET or not hmac.compare_digest(secret, settings.GATEWAY_SECRET):
        raise Http404
    uri = request.headers.get("X-Original-URI", "")
    if not request.user.is_authenticated:
        back = f"{reverse('gateway-continue')}?{urlencode({'to': uri})}"
        answer = HttpResponse(status=401)
        answer["X-Gateway-Login"] = request.build_absolute_uri(
            f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
        )
        return answer
    # A tenant's MLflow UI (/gateway/tracking/<tenant>/) or a node's service.
    check = tracking_gateway_pass if tracking_is_gateway_path(uri=uri) else gateway_pass
    try:
        passed = check(user=request.user, uri=uri)
    except (NotFound, Forbidden, Unavailable) as exc:
        answer = HttpResponse(status=403)
        answer["X-Gateway-Status"] = str(exc.status)
        return answer
    answer = HttpResponse(status=200)
    answer["X-Gateway-Upstream"] = passed.upstream
    answer["X-Gateway-Authorization"] = passed.authorization
    answer["X-Gateway-Strip-Prefix"] = "1" if passed.strip_prefix else "0"
    return answer


@never_cache
@require_GET
def endpoint_gateway_auth(request):
    """The answer for /endpoints/<tenant>/<name>/...: no session here, the caller's endpoint key
    (Authorization: Bearer) decides. 401 goes to the caller as it is; other refusals as above."""
    secret = request.headers.get("X-Gateway-Secret", "")
    if not settings.GATEWAY_SECRET or not hmac.compare_digest(secret, settings.GATEWAY_SECRET):
        raise Http404
    try:
        passed = endpoint_pass(
            uri=request.headers.get("X-Original-URI", ""),
            authorization=request.headers.get("X-Endpoint-Authorization", ""),
        )
    except EndpointKeyRefused:
        return HttpResponse(status=401)
    except (NotFound, Unavailable) as exc:
        answer = HttpResponse(status=403)
        answer["X-Gateway-Status"] = str(exc.status)
        return answer
    answer = HttpResponse(status=200)
    answer["X-Endpoint-Upstream"] = passed.upstream
    return answer


@login_required
@require_GET
def gateway_continue(request):
    """After a login that a gateway request asked for: back to that gateway address. Only
    gateway paths are followed, so this is no open redirect."""
    to = request.GET.get("to", "")
    if not GATEWAY_PATH.match(to) or "//" in to or "\\" in to:
        raise Http404
    return redirect(f"{settings.GATEWAY_URL}{to}")
