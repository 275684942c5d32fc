import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")

# One queue per kind of work, each consumed by workers of its own (deploy/supervisor/portal.conf),
# so that a burst of one kind never keeps the others waiting: launches (short bring-ups),
# readiness (one watcher for every waiting launch), long work (image builds, jobs that follow
# commands for hours) and the rest (reconciler, inventory, idle stop) on the default queue.
QUEUES = ("celery", "launch", "readiness", "long")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "celery"
app.conf.task_routes = {
    "provisioning.tasks.operation_run": {"queue": "launch"},
    "provisioning.tasks.readiness_watch": {"queue": "readiness"},
    "provisioning.tasks.job_run": {"queue": "long"},
    "catalog.tasks.image_build_run_task": {"queue": "long"},
    "catalog.tasks.platform_image_build_task": {"queue": "long"},
    # A converge waits for replicas to load their models (a minute or two at most).
    "serving.tasks.endpoint_converge_task": {"queue": "long"},
}
app.autodiscover_tasks()
