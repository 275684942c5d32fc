import logging

from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def operation_enqueue(operation) -> None:
    """Hand the operation to a worker once the transaction that recorded it commits: a worker
    must never see an operation the database does not have yet.

    The operation is already recorded when the message is sent, so a broker that does not answer
    must not turn an accepted request into an error: the reconciler hands every operation that
    made no progress for PORTAL_OPERATION_STALE_S to a worker again."""
    from provisioning.tasks import operation_run

    operation_id = operation.pk

    def send() -> None:
        try:
            operation_run.delay(operation_id)
        except OperationalError as exc:
            log.warning("broker down, operation %s waits for the reconciler: %s", operation_id, exc)

    transaction.on_commit(send)
