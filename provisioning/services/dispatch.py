from django.db import transaction


def operation_enqueue(operation) -> None:
    """Hand the operation to a worker once the transaction that recorded it commits: a worker
    must never see an operation the database does not have yet."""
    from provisioning.tasks import operation_run

    operation_id = operation.pk
    transaction.on_commit(lambda: operation_run.delay(operation_id))
