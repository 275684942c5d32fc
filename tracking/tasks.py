"""Celery tasks: ids in, services do the work."""

from celery import shared_task

from tracking.services import tracking_converge as converge
from tracking.services import tracking_reconcile as reconcile


@shared_task(acks_late=True, ignore_result=True)
def tracking_converge(server_id: int) -> None:
    outcome = converge(server_id=server_id)
    if outcome.again_in is not None:
        tracking_converge.apply_async((server_id,), countdown=outcome.again_in)


@shared_task(ignore_result=True)
def tracking_reconcile() -> dict:
    return reconcile()
