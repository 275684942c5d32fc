"""The gateway's question for /endpoints/<tenant>/<name>/...: may this caller's key pass, and to
which upstream? The answer names the endpoint's nginx upstream group (serving.services.routes),
whose replicas nginx balances and retries itself. An endpoint scaled to zero is woken: the
answer waits for its first replica and names that replica's address, since the group's file
is reloaded by workers other than the one holding this request."""

import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from common.errors import NotFound, ServiceError, Unavailable
from serving.models import Endpoint, Replica
from serving.services.endpoints import endpoint_scale
from serving.services.keys import endpoint_key_check
from serving.states import EndpointStatus, ReplicaStatus

ENDPOINT_PATH = re.compile(r"^/endpoints/(?P<tenant>[a-z0-9-]{1,50})/(?P<name>[a-z0-9-]{1,50})(?:/|$)")
WAKE_POLL_S = 0.5
#: last_request is written at most this often (the gateway keeps a yes for a few seconds anyway).
ACTIVITY_EVERY_S = 10


class EndpointNotFound(NotFound):
    code = "endpoint_not_found"


class EndpointKeyRefused(ServiceError):
    code = "endpoint_key_refused"
    status = 401


class EndpointNotReady(Unavailable):
    code = "endpoint_not_ready"


@dataclass(frozen=True)
class EndpointPass:
    upstream: str  # an nginx upstream group's name, or ip:port of one replica


def endpoint_pass(*, uri: str, authorization: str) -> EndpointPass:
    match = ENDPOINT_PATH.match(uri or "")
    if match is None:
        raise EndpointNotFound("Not an endpoint address.")
    endpoint = (
        Endpoint.objects.live()
        .select_related("tenant")
        .filter(tenant__slug=match["tenant"], name=match["name"])
        .first()
    )
    if endpoint is None:
        raise EndpointNotFound("No such endpoint.")
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not endpoint_key_check(endpoint=endpoint, presented=key.strip()):
        raise EndpointKeyRefused("Send one of this endpoint's keys: Authorization: Bearer <key>.")
    _record_request(endpoint)
    if endpoint.replicas.filter(status=ReplicaStatus.READY).exists():
        return EndpointPass(upstream=endpoint.upstream_name)
    return EndpointPass(upstream=_wake(endpoint))


def _wake(endpoint: Endpoint) -> str:
    """Scale an idle endpoint up to one replica and wait for it; its address."""
    if endpoint.status == EndpointStatus.ERROR:
        raise EndpointNotReady(f"Endpoint {endpoint.name!r} is in error: {endpoint.explanation}")
    if endpoint.desired_replicas == 0:
        endpoint_scale(endpoint=endpoint, replicas=1)
    deadline = time.monotonic() + settings.SERVING_WAKE_WAIT_S
    while time.monotonic() < deadline:
        replica = Replica.objects.filter(
            endpoint=endpoint, status=ReplicaStatus.READY, ip__isnull=False
        ).first()
        if replica is not None:
            return f"{replica.ip}:8080"
        time.sleep(WAKE_POLL_S)
    raise EndpointNotReady(f"Endpoint {endpoint.name!r} has no replica ready yet; retry shortly.")


def _record_request(endpoint: Endpoint) -> None:
    now = timezone.now()
    if endpoint.last_request is None or now - endpoint.last_request > timedelta(seconds=ACTIVITY_EVERY_S):
        Endpoint.objects.filter(pk=endpoint.pk).update(last_request=now)


def endpoint_try(*, endpoint: Endpoint, body: str) -> tuple[int, str]:
    """The endpoint page's "try it": one inference request, sent by the portal to a ready replica
    (the browser gets the answer, never the address). Returns the status and the body."""
    replica = Replica.objects.filter(endpoint=endpoint, status=ReplicaStatus.READY, ip__isnull=False).first()
    if replica is None:
        raise EndpointNotReady(f"Endpoint {endpoint.name!r} has no replica ready now.")
    request = urllib.request.Request(  # noqa: S310 - a replica's own address
        f"http://{replica.ip}:8080/v2/models/{endpoint.served_model_name}/infer",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        raise EndpointNotReady(f"The replica did not answer: {exc}") from exc
