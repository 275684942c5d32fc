"""Celery tasks: ids in, services do the work. Which queue each goes to: portal.celery."""

from celery import shared_task

from provisioning.models import Host
from provisioning.services.admission import queue_admit_pass, queue_admit_soon
from provisioning.services.hosts import host_inventory_take as inventory_take
from provisioning.services.image_prune import images_prune as prune_images
from provisioning.services.jobs import job_advance
from provisioning.services.notebooks import notebooks_idle_stop as idle_notebooks_stop
from provisioning.services.operations import operation_advance
from provisioning.services.pools import POOL_LOOK_AGAIN_S
from provisioning.services.pools import pool_default_ensure as ensure_default_pool
from provisioning.services.pools import pool_maintain as maintain_pool
from provisioning.services.readiness_watch import readiness_watch as watch_readiness
from provisioning.services.reconciler import reconcile_all


@shared_task(acks_late=True, ignore_result=True)
def operation_run(operation_id: int) -> None:
    outcome = operation_advance(operation_id=operation_id)
    if outcome.on_nodes:  # waiting for nodes to answer: the readiness watcher's, not a countdown
        readiness_watch.delay()
    elif outcome.again_in is not None:  # another worker held the sandbox: try again soon
        operation_run.apply_async((operation_id,), countdown=outcome.again_in)
    else:  # an operation that ends may have freed room (stop, delete, resize down, failed create)
        queue_admit_soon()


@shared_task(acks_late=True, ignore_result=True)
def readiness_watch() -> None:
    if watch_readiness().again_in is not None:
        readiness_watch.delay()


@shared_task(ignore_result=True)
def reconcile() -> dict:
    return reconcile_all()


@shared_task(acks_late=True, ignore_result=True)
def job_run(job_id: int) -> None:
    outcome = job_advance(job_id=job_id)
    if outcome.again_in is not None:
        job_run.apply_async((job_id,), countdown=outcome.again_in)


@shared_task(ignore_result=True)
def notebooks_idle_stop() -> list[int]:
    return idle_notebooks_stop()


@shared_task(ignore_result=True)
def host_inventory_take(host_id: int) -> None:
    inventory_take(host_id=host_id)


@shared_task(ignore_result=True)
def queue_admit() -> dict:
    return queue_admit_pass()


@shared_task(ignore_result=True)
def images_prune() -> dict:
    return prune_images().as_json()


@shared_task(acks_late=True, ignore_result=True)
def pool_maintain(host_id: int) -> None:
    if maintain_pool(host_id=host_id):  # a pooled node still starts: look at it again soon
        pool_maintain.apply_async((host_id,), countdown=POOL_LOOK_AGAIN_S)


@shared_task(ignore_result=True)
def pools_maintain() -> None:
    ensure_default_pool()
    for host_id in Host.objects.values_list("pk", flat=True):
        pool_maintain.delay(host_id)
