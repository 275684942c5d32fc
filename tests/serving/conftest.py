"""Real-Docker, real-nginx fixtures for served models: the model server image, MLflow model
versions trained in its own container (as a job in a sandbox trains them), a Celery worker that
writes the gateway's routes, and the gateway in front of the live portal."""

import contextlib
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from catalog.models import Flavor
from conftest import Worker
from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import driver_for_host
from provisioning.drivers.docker import SITE_LABEL
from provisioning.models import Host
from serving.image_build import model_server_image
from tenants.models import Membership, Tenant, User
from tests.gateway.nginx import Gateway
from tests.provisioning.conftest import docker_client  # noqa: F401 - fixture

SECRET = "secret-of-the-serving-tests"  # noqa: S105 - a test value

#: Version 1: y = 2x + 1; version 2: y = 3x - 1 (both linear regressions on one feature, trained
#: on x = 0..9 and carrying its statistics as the drift signal wants them: feature "0", mean 4.5);
#: version 3: a model directory whose model file is damaged, so it never loads.
TRAIN = """
import sys, numpy as np, pandas as pd, mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression
out, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
X = np.arange(10, dtype=float).reshape(-1, 1)
model = LinearRegression().fit(X, a * X[:, 0] + b)
mlflow.sklearn.save_model(
    model,
    out,
    signature=infer_signature(X, model.predict(X)),
    metadata={"training_stats": pd.DataFrame(X).describe().to_dict()},
)
"""


@pytest.fixture(scope="session")
def model_server_published(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():  # the build takes its advisory lock
        call_command("serving_image_build", verbosity=0)
    return model_server_image()


@pytest.fixture(scope="session")
def model_store(tmp_path_factory, model_server_published, docker_client):  # noqa: F811
    """SERVING_MODEL_DIR with tenant lab's model "line" in versions 1, 2 and 3 (3 is damaged)."""
    root = tmp_path_factory.mktemp("models")
    folder = root / "lab" / "line"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    for version, (a, b) in {"1": (2, 1), "2": (3, -1), "3": (1, 0)}.items():
        docker_client.containers.run(
            model_server_published,
            entrypoint=["python3", "-c", TRAIN, f"/out/{version}", str(a), str(b)],
            volumes={str(folder): {"bind": "/out", "mode": "rw"}},
            remove=True,
            network_mode="none",
        )
    damaged = folder / "3"
    for path in damaged.iterdir():
        if path.name != "MLmodel" and path.is_file():
            path.write_bytes(b"not a model")
    return root


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serving-run")


@pytest.fixture(scope="module")
def serving_worker(django_db_setup, django_db_blocker, run_dir, model_store, celery_worker_process):
    """A worker whose routes land in the test gateway's run folder. The run's shared worker
    knows neither that folder nor the model store: it steps aside meanwhile (a task it took
    would fail the endpoint), and takes tasks again when the module ends."""
    from portal.celery import app

    celery_worker_process.consume(False)
    app.control.purge()
    worker = Worker(
        "serving-worker",
        PORTAL_RUN_DIR=str(run_dir),
        PORTAL_SERVING_MODEL_DIR=str(model_store),
        PORTAL_SERVING_DRAIN_S="2",
    )
    try:
        yield worker.wait_ready()
    finally:
        worker.stop()
        celery_worker_process.consume(True)


@pytest.fixture
def serving_settings(settings, run_dir, model_store):
    settings.GATEWAY_SECRET = SECRET
    settings.GATEWAY_RUN_DIR = run_dir / "gateway"
    settings.SERVING_MODEL_DIR = str(model_store)
    return settings


@pytest.fixture
def gateway(live_server, run_dir, serving_settings):
    port = int(live_server.url.rsplit(":", 1)[1])
    running = Gateway(portal_port=port, secret=SECRET, run_dir=run_dir)
    serving_settings.GATEWAY_URL = running.url
    try:
        yield running.start()
    finally:
        running.stop()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(run_dir / "gateway" / "nginx.pid")


@pytest.fixture
def no_replica_left(docker_client, local_host):  # noqa: F811
    """A test that fails midway leaves no replica running on the shared engine."""
    yield
    labels = [f"{LABEL_PREFIX}.endpoint", f"{SITE_LABEL}={settings.SITE}"]
    for container in docker_client.api.containers(all=True, filters={"label": labels}):
        docker_client.api.remove_container(container["Id"], force=True)
    driver = driver_for_host(Host.objects.get(name="local"))
    for network in docker_client.api.networks(filters={"label": labels}):
        driver.remove_network(name=network["Name"])  # a tracking server that joined it leaves it


@pytest.fixture
def teams(transactional_db, local_host, no_replica_left):
    lab = Tenant.objects.create(
        slug="lab", name="Lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100
    )
    other = Tenant.objects.create(
        slug="other", name="Other", quota_cpus=Decimal("4"), quota_memory_mib=8192, quota_storage_gib=10
    )
    Flavor.objects.create(name="serve", cpus=Decimal("0.5"), memory_mib=1024, gpus=0, disk_gib=1)
    clients = {}
    for slug, username in (("lab", "grace"), ("other", "mallory")):
        user = User.objects.create_user(username=username, password="not-used-here")
        Membership.objects.create(user=user, tenant=Tenant.objects.get(slug=slug))
        client = APIClient()
        client.force_authenticate(user)
        clients[slug] = client
    return lab, other, clients
