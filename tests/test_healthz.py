"""/healthz against the real database, Redis, Celery worker and Docker engine."""

import shutil
import socket
import subprocess
import time

import pytest
import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of the test's own, so that stopping it disturbs nothing else."""
    port = _free_port()
    process = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield process, url
    process.kill()
    process.wait()


@pytest.mark.django_db(transaction=True)
def test_all_dependencies_ok(client, celery_worker_process, local_host):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "celery", "docker:local"}
    assert all(entry == {"status": "ok"} for entry in body["checks"].values())


@pytest.mark.django_db(transaction=True)
def test_stopped_redis_answers_503_naming_redis(
    client, settings, celery_worker_process, local_host, private_redis
):
    process, url = private_redis
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.HEALTH_CHECK_TIMEOUT_S = 1
    assert client.get("/healthz").json()["checks"]["redis"] == {"status": "ok"}

    process.terminate()
    process.wait()
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["checks"]["redis"]["status"] == "error"
    assert "Connection refused" in body["checks"]["redis"]["reason"]
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["docker:local"] == {"status": "ok"}


@pytest.mark.django_db
def test_unreachable_docker_host_is_named(client, settings, celery_worker_process):
    from provisioning.models import Host

    Host.objects.create(name="gone", url="tcp://127.0.0.1:1")
    settings.HEALTH_CHECK_TIMEOUT_S = 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["docker:gone"]["status"] == "error"
