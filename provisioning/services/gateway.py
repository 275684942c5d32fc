"""The gateway's question to the portal: may this browser's user pass to this node service, and
where is it? The gateway (nginx, deploy/gateway/) asks it for every request under
/gateway/<node key>/<service>/ and proxies to the answer's upstream with the answer's
credentials, so that neither a container's address nor a service's secret reaches a browser.

Who may pass is who may use the sandbox (provisioning.selectors.sandbox_can_manage, the rule of
the API's start, stop, jobs and delete): another tenant's node is NotFound, as a node that does
not exist; a colleague without that right is Forbidden. Each pass records the node's activity
(at most once per GATEWAY_ACTIVITY_EVERY_S), which the notebook idle stop reads."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from common.errors import Forbidden, NotFound, Unavailable
from provisioning.models import Node
from provisioning.selectors import sandbox_can_manage, sandbox_list
from provisioning.states import NodeStatus, SandboxStatus

#: /gateway/<node key>/<service>/..., as nginx hands on the request's URI.
GATEWAY_PATH = re.compile(
    r"^/gateway/(?P<key>[A-Za-z0-9_-]{1,32})/(?P<service>[a-z0-9][a-z0-9-]{0,49})(?:/|$)"
)


class GatewayNotFound(NotFound):
    code = "gateway_not_found"


class GatewayForbidden(Forbidden):
    code = "gateway_forbidden"


class GatewayNotReady(Unavailable):
    code = "gateway_not_ready"


@dataclass(frozen=True)
class GatewayPass:
    upstream: str  # host:port as the gateway reaches the service
    authorization: str  # the Authorization header the service expects, or ""
    strip_prefix: bool = False  # pass on only the path after /gateway/<node key>/<service>


def gateway_pass(*, user, uri: str) -> GatewayPass:
    """Whether `user` may reach what `uri` names, and where it is. Raises GatewayNotFound (no
    such node or service, or one of a sandbox the user does not see), GatewayForbidden (seen but
    not theirs to use) or GatewayNotReady (the node does not run now)."""
    match = GATEWAY_PATH.match(uri or "")
    if match is None:
        raise GatewayNotFound("Not a gateway address.")
    sandbox = (
        sandbox_list(user=user)
        .filter(nodes__gateway_key=match["key"])
        .exclude(status=SandboxStatus.DELETED)
        .first()
    )
    if sandbox is None:
        raise GatewayNotFound("No such service.")
    node = Node.objects.get(gateway_key=match["key"])
    role = sandbox.catalog_item.spec.roles.get(node.role)
    service = next(
        (s for s in (role.services if role else ()) if s.name == match["service"] and s.protocol == "http"),
        None,
    )
    if service is None:
        raise GatewayNotFound("No such service.")
    if not sandbox_can_manage(user=user, sandbox=sandbox):
        raise GatewayForbidden(
            f"Only the owner of sandbox {sandbox.name!r} and its tenant's admins may use its services."
        )
    if node.status != NodeStatus.RUNNING or not node.ip:
        raise GatewayNotReady(f"Sandbox {sandbox.name!r} is {sandbox.status}: start it from its page.")
    _record_activity(node)
    # Jupyter takes the sandbox's token (the one the node's server was started with) in a header
    # the gateway adds: the browser never holds it.
    authorization = f"token {sandbox.secret}" if service.name == "jupyter" else ""
    return GatewayPass(
        upstream=f"{node.ip}:{service.port}", authorization=authorization, strip_prefix=service.strip_prefix
    )


def _record_activity(node: Node) -> None:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.GATEWAY_ACTIVITY_EVERY_S)
    if node.gateway_activity is not None and node.gateway_activity > stale:
        return
    # One conditional write: of concurrent requests, one updates, the others match nothing.
    Node.objects.filter(Q(gateway_activity__isnull=True) | Q(gateway_activity__lte=stale), pk=node.pk).update(
        gateway_activity=now
    )
