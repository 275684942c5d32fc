from celery import shared_task

from catalog.services.builds import image_build_run


@shared_task(acks_late=True)
def image_build_run_task(build_id: int) -> str:
    return image_build_run(build_id=build_id).status
