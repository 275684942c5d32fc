# The benchmarks use the same real-service fixtures as the provisioning tests.
import pytest

from bench.launch import production_workers
from conftest import Worker
from tests.provisioning.conftest import docker_client, published, team  # noqa: F401


@pytest.fixture(scope="session")
def bench_workers(django_db_setup, django_db_blocker):
    """The Celery workers `make run` starts, one per kind of work, on the test database."""
    from portal.celery import app

    app.control.purge()
    workers = [
        Worker(f"bench-{w['name']}", queues=w["queues"], concurrency=w["concurrency"])
        for w in production_workers()
    ]
    try:
        yield [worker.wait_ready() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
