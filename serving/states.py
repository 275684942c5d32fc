"""Every state an endpoint or one of its replicas can be in, with its one-line meaning, and the
endpoint's transition table: which action is allowed from which state, what it goes through
while a worker carries it out, and where it ends. Services, the serving reconciler, the API and
the templates read these; no other module spells a state."""

from django.db import models

from common.async_work import Transition


class EndpointStatus(models.TextChoices):
    PENDING = "pending", "Accepted, waiting for a worker"
    DEPLOYING = "deploying", "Replicas are being started for the first time"
    READY = "ready", "Every wanted replica answers; requests are served"
    UPDATING = "updating", "A new model version rolls out replica by replica, or replicas are added"
    ERROR = "error", "A deploy failed; see the explanation"
    DELETED = "deleted", "Gone; kept as a record"


class EndpointAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Change the model version or the replica bounds"
    DELETE = "delete", "Delete"


class ReplicaStatus(models.TextChoices):
    PENDING = "pending", "Placed on a host, container not started yet"
    STARTING = "starting", "Container started, the model is loading"
    READY = "ready", "Answers its readiness check; in the gateway's rotation"
    DRAINING = "draining", "Out of the gateway's rotation; removed once its requests are done"
    DELETED = "deleted", "Container removed (the explanation says why, when it failed to start)"


E, R = EndpointStatus, ReplicaStatus


def _t(allowed_from, through, ends, fails=None) -> Transition:
    return Transition(frozenset(allowed_from), through, ends, fails)


ENDPOINT_TRANSITIONS: dict[str, Transition] = {
    EndpointAction.CREATE: _t({E.PENDING}, E.DEPLOYING, E.READY, E.ERROR),
    # An update that fails its readiness check is rolled back: the endpoint is ready again on
    # the version it served, with the explanation of what failed.
    EndpointAction.UPDATE: _t({E.READY, E.ERROR}, E.UPDATING, E.READY, E.READY),
    EndpointAction.DELETE: _t(set(E) - {E.DELETED}, E.DELETED, E.DELETED),
}
#: An endpoint in these has a worker converging it; the serving reconciler leaves it alone.
ENDPOINT_BUSY = frozenset({E.PENDING, E.DEPLOYING, E.UPDATING})
#: Endpoints the serving reconciler keeps at their wanted replica count.
ENDPOINT_SETTLED = frozenset({E.READY})
ENDPOINT_FINAL = frozenset({E.DELETED})
ENDPOINT_LIVE = frozenset(set(E) - ENDPOINT_FINAL)

#: Replicas that still have (or will have) a container, and hold their cpus and memory.
REPLICA_LIVE = frozenset(set(R) - {R.DELETED})
#: Replicas the gateway sends requests to.
REPLICA_SERVING = frozenset({R.READY})


def endpoint_action_allowed(*, status: str, action: str) -> bool:
    return status in ENDPOINT_TRANSITIONS[action].allowed_from
