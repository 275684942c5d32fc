"""Celery tasks: ids in, services do the work. Which queue each goes to: portal.celery."""

from celery import shared_task

from serving.services.converge import endpoint_converge
from serving.services.reconcile import serving_reconcile as reconcile_endpoints


@shared_task(acks_late=True, ignore_result=True)
def endpoint_converge_task(endpoint_id: int) -> None:
    outcome = endpoint_converge(endpoint_id=endpoint_id)
    if outcome.again_in is not None:
        endpoint_converge_task.apply_async((endpoint_id,), countdown=outcome.again_in)


@shared_task(ignore_result=True)
def serving_reconcile() -> dict:
    return reconcile_endpoints()
