"""Every state a tenant's tracking server can be in, with its one-line meaning, and its
transition table. Services, the reconciler pass, the API and the tenant page read these."""

from django.db import models

from common.async_work import Transition


class TrackingStatus(models.TextChoices):
    STARTING = "starting", "A worker makes its database, volume and container and waits for MLflow"
    READY = "ready", "MLflow answers; new sandboxes of the tenant get its address and credentials"
    STOPPING = "stopping", "A worker removes its container; its database and volume are kept"
    DISABLED = "disabled", "No container; its database and artifact volume are kept for a new start"
    ERROR = "error", "The last start failed (see the explanation); its container was removed"


S = TrackingStatus

TRACKING_TRANSITIONS = {
    "enable": Transition(
        allowed_from=frozenset({S.DISABLED, S.ERROR}), through=S.STARTING, ends=S.READY, fails=S.ERROR
    ),
    "disable": Transition(
        allowed_from=frozenset({S.STARTING, S.READY, S.ERROR}), through=S.STOPPING, ends=S.DISABLED
    ),
    # Deleting its data (database, role, volume) and the storage it holds.
    "purge": Transition(allowed_from=frozenset({S.DISABLED}), through=S.DISABLED, ends=S.DISABLED),
}
#: A worker has work to do in these (the reconciler pass hands them to a worker again).
TRACKING_IN_FLIGHT = frozenset({S.STARTING, S.STOPPING})
