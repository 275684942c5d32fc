"""Fixtures shared by every test package: real services, started for the test run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import stop_group

# Browser fixtures (chromium, new_page) for every test folder that drives the UI.
pytest_plugins = ["tests.browser.fixtures"]

ROOT = Path(__file__).resolve().parent


class Worker:
    """A real Celery worker process on the test database and the test Redis database. By
    default one process takes every queue (launch, readiness, long work and the rest): `make
    run` gives each its own, but the tests run too few tasks at once for that to matter."""

    def __init__(self, name: str, *, queues: tuple[str, ...] = (), concurrency: int = 8, **env: str):
        from portal.celery import QUEUES, app

        self.app = app
        self.queues = queues or QUEUES
        self.hostname = f"{name}-{os.getpid()}@test"
        self.log = open(ROOT / "var" / f"test-{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                str(concurrency),
                "--hostname",
                self.hostname,
                "--queues",
                ",".join(self.queues),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "portal.settings_test",
                "PORTAL_DB_NAME": settings.DATABASES["default"]["NAME"],
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 60) -> "Worker":
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"Celery worker {self.hostname} did not answer a ping; see {self.log.name}")

    def consume(self, take: bool) -> None:
        """Stop taking tasks from its queues (False), or take them again (True)."""
        control = self.app.control.add_consumer if take else self.app.control.cancel_consumer
        for queue in self.queues:
            control(queue, destination=[self.hostname], reply=True)

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to finish or hand back what it holds."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def stop(self) -> None:
        stop_group(self.process, timeout_s=20)
        self.log.close()


@pytest.fixture(autouse=True)
def _fake_engines():
    """Hosts at fake:// URLs run on the in-memory engines of the test doubles, fresh for every
    test (tests that talk to real engines simply have no such host)."""
    from provisioning.tests.doubles import fake_engines_register, fake_engines_reset

    fake_engines_register()
    fake_engines_reset()
    yield
    fake_engines_reset()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """The worker of the test run, shared by every test that needs one."""
    from portal.celery import app

    app.control.purge()
    worker = Worker("worker")
    try:
        yield worker.wait_ready()
    finally:
        worker.stop()


@pytest.fixture
def local_host(db):
    """The machine's Docker engine, registered as the platform registers it."""
    from provisioning.services.hosts import host_ensure_default, host_inventory_refresh

    return host_inventory_refresh(host=host_ensure_default(url=settings.DOCKER_DEFAULT_URL))


@pytest.fixture
def seeded_flavors(transactional_db):
    """Transactional tests empty every table, the flavors that a migration seeds included:
    seed them again for tests that name a flavor."""
    import importlib

    from django.apps import apps

    importlib.import_module("catalog.migrations.0002_seed_flavors").seed(apps, None)
