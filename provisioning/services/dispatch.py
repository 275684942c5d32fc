"""Handing provisioning's recorded work to a worker, after the transaction that recorded it
commits (common.async_work says why, and what happens when the broker is down)."""

from common.async_work import enqueue_after_commit


def operation_enqueue(operation) -> None:
    from provisioning.tasks import operation_run  # the task module imports the services

    enqueue_after_commit(operation_run, operation.pk, what="operation")


def job_enqueue(job) -> None:
    from provisioning.tasks import job_run

    enqueue_after_commit(job_run, job.pk, what="job")


def host_inventory_enqueue(host) -> None:
    from provisioning.tasks import host_inventory_take

    enqueue_after_commit(host_inventory_take, host.pk, what="host inventory")
