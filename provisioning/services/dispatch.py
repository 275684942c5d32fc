import logging

from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def _send_after_commit(task, object_id: int, what: str) -> None:
    """Hand the work to a worker once the transaction that recorded it commits: a worker must
    never see a row the database does not have yet.

    The work is already recorded when the message is sent, so a broker that does not answer must
    not turn an accepted request into an error: the reconciler hands every operation or job that
    made no progress to a worker again."""

    def send() -> None:
        try:
            task.delay(object_id)
        except OperationalError as exc:
            log.warning("broker down, %s %s waits for the reconciler: %s", what, object_id, exc)

    transaction.on_commit(send)


def operation_enqueue(operation) -> None:
    from provisioning.tasks import operation_run

    _send_after_commit(operation_run, operation.pk, "operation")


def job_enqueue(job) -> None:
    from provisioning.tasks import job_run

    _send_after_commit(job_run, job.pk, "job")


def host_inventory_enqueue(host) -> None:
    from provisioning.tasks import host_inventory_take

    _send_after_commit(host_inventory_take, host.pk, "host inventory")
