"""The launch benchmark's set-up: the real-service fixtures of the provisioning tests, a tenant
large enough for 16 notebooks at once, the portal's notebook gateway for *Open Jupyter*, and
the peer JupyterHub + DockerSpawner in the bench's own virtualenv."""

import logging
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bench.peer_hub import PREFIX, PeerHub, peer_image
from catalog.models import CatalogItem
from conftest import Worker
from tenants.models import Membership, Tenant, User
from tests.gateway.test_gateway_browser import gateway  # noqa: F401 - the portal's gateway (nginx)
from tests.provisioning.conftest import docker_client, published  # noqa: F401

ITEM = "jupyter-pytorch"
FLAVOR = "small"
PASSWORD = "bench-portal-password"  # noqa: S105 - a bench user
MOST_AT_ONCE = 16
# The portal logs every login (django-axes) and every 404 (a favicon): the table is what
# a reader of the run wants, so these stay quiet.
logging.getLogger("axes").setLevel(logging.WARNING)
logging.getLogger("django.request").setLevel(logging.ERROR)
# The portal's processes (web, workers) read their settings from the environment they inherit.
os.environ.setdefault("PORTAL_CPU_OVERCOMMIT", str(MOST_AT_ONCE))


#: How `make run` starts the portal's Celery workers: the bench runs them the same way.
SUPERVISOR_CONF = Path(__file__).resolve().parent.parent / "deploy" / "supervisor" / "portal.conf"
DEPLOYED_WORKER = re.compile(r"celery -A portal worker .*--concurrency (\d+) --queues (\S+)")


def deployed_workers() -> list[tuple[tuple[str, ...], int]]:
    """The queues and concurrency of each worker process `make run` starts."""
    found = DEPLOYED_WORKER.finditer(SUPERVISOR_CONF.read_text())
    return [(tuple(match[2].split(",")), int(match[1])) for match in found]


class Workers(list):
    """The deployed workers, standing in for the test run's one worker where a fixture asks it
    to stop taking tasks for a while (the serving tests' worker of their own)."""

    def consume(self, take: bool) -> None:
        for worker in self:
            worker.consume(take)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """The portal's workers as deployed, one process per kind of work (launches, readiness,
    long work, the rest), not the test run's one process for every queue: in a burst the
    launches' threads and the readiness watcher would share one interpreter there."""
    from django.conf import settings

    from portal.celery import app

    app.control.purge()
    # Their database connections kept as deployed (the test run closes them after each task).
    deployed = {"PORTAL_TEST_DB_CONN_MAX_AGE": str(settings.DB_CONN_MAX_AGE)}
    workers = Workers(
        Worker(f"bench-{'-'.join(queues)}", queues=queues, concurrency=n, **deployed)
        for queues, n in deployed_workers()
    )
    try:
        for worker in workers:
            worker.wait_ready()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def notebook_gateway(gateway):  # noqa: F811 - a fixture, imported above
    """What *Open Jupyter* goes through: the nginx gateway in front of the live portal."""
    return gateway


@pytest.fixture
def image(published, docker_client):  # noqa: F811
    """The catalog image, built and on the host before anything is timed."""
    published(ITEM)
    name = CatalogItem.objects.get(slug=ITEM).image
    docker_client.images.get(name)
    return name


@pytest.fixture
def bench_user(transactional_db, local_host, settings):
    """grace, member of tenant `lab`, whose quota and host take MOST_AT_ONCE notebooks: the
    floor (raw docker run) reserves nothing, and the benchmark measures speed, not refusals."""
    # A 1-CPU flavor sixteen times on this machine's cores, in this process (the warm pool's
    # set-up); the portal's own processes take it from the environment (above).
    settings.CPU_OVERCOMMIT = str(MOST_AT_ONCE)
    small_mib = 2048
    local_host.memory_mib = max(local_host.memory_mib, (MOST_AT_ONCE + 2) * small_mib)
    local_host.save(update_fields=["memory_mib"])
    tenant = Tenant.objects.create(
        slug="lab",
        name="Lab",
        quota_cpus=Decimal(MOST_AT_ONCE * 2),
        quota_memory_mib=MOST_AT_ONCE * 2 * small_mib,
        quota_storage_gib=MOST_AT_ONCE * 20,
        quota_sandboxes=MOST_AT_ONCE * 2,
    )
    user = User.objects.create_user(username="grace", password=PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def site_admin(transactional_db):
    """Who sets the warm pool's size between the cases (bench/pool.py)."""
    return User.objects.create_user(username="root", password=PASSWORD, is_site_admin=True)


@pytest.fixture
def peer_hub(image, tmp_path, docker_client):  # noqa: F811
    state = tmp_path / "peer-hub"
    state.mkdir()
    _remove_bench_containers(docker_client)
    running = PeerHub(image=peer_image(docker_client, image=image), state_dir=state)
    try:
        yield running.start()
    finally:
        running.stop()
        _remove_bench_containers(docker_client)


def _remove_bench_containers(client) -> None:
    """What an interrupted earlier run left: the floor's and the peer's containers."""
    for prefix in ("bench-raw-", f"{PREFIX}-"):
        for container in client.api.containers(all=True, filters={"name": prefix}):
            client.api.remove_container(container["Id"], force=True)
