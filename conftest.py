"""Fixtures shared by every test package: real services, started for the test run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent


def _wait_for_worker_ping(app, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"the test Celery worker did not answer a ping within {seconds:g}s")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker on the test database and the test Redis database."""
    from portal.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "PORTAL_DB_NAME": settings.DATABASES["default"]["NAME"],
    }
    app.control.purge()
    log = open(ROOT / "var" / "test-worker.log", "ab")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            f"test-worker-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_worker_ping(app, seconds=60)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def local_host(db):
    """The machine's Docker engine, registered as the platform registers it."""
    from provisioning.services.hosts import host_ensure_default, host_inventory_refresh

    return host_inventory_refresh(host=host_ensure_default(url=settings.DOCKER_DEFAULT_URL))
