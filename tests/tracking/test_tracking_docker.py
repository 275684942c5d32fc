"""A tenant's tracking server for real: MLflow in a container of the local engine, its backend
store a database of its own on the platform's PostgreSQL, artifacts on a sized volume. A job in a
sandbox of the tenant logs a metric, a client container on the sandbox's network logs a model and
registers it, the registry lists it, also after its container died and the reconcile pass made
it again; another tenant's node reaches nothing, and a request without
the credentials gets 401; the MLflow UI answers through the real nginx gateway for a member and
not for another tenant's user; switching off removes the container, deleting the data the rest."""

import base64
import json
import time
import urllib.error
import urllib.request

import docker.errors
import pytest
from django.conf import settings
from django.test import Client

from provisioning.drivers import NodeSpec, driver_for_host
from provisioning.drivers.docker import SITE_LABEL
from provisioning.models import Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from tenants.selectors.usage import tenant_usage
from tests.gateway.nginx import Gateway
from tests.provisioning.conftest import leftovers
from tests.tracking.conftest import api
from tracking import naming
from tracking.containers import credentials_file, tracking_image
from tracking.database import tracking_database_exists
from tracking.models import TrackingServer
from tracking.selectors import tracking_server_ready_for
from tracking.services import tracking_client_config, tracking_reconcile
from tracking.states import TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)

GATEWAY_SECRET = "secret-of-the-tracking-test"  # noqa: S105 - test value

# A job of a python-minimal sandbox (no mlflow package there): MLflow's REST API with what the
# node was given, MLFLOW_TRACKING_URI and the credentials' secret file. (It reads the secret file
# itself, not the ~/.mlflow/credentials link the entrypoint makes: other test runs on this
# machine push their own python-minimal under the same tag.)
REST_JOB = r"""
import base64, configparser, json, os, urllib.request
creds = configparser.ConfigParser()
creds.read("/run/sandbox-secrets/mlflow_credentials")
user, password = creds["mlflow"]["mlflow_tracking_username"], creds["mlflow"]["mlflow_tracking_password"]
auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
def call(path, body):
    request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/" + path,
        data=json.dumps(body).encode(), headers={"Authorization": auth, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=30))
run = call("runs/create", {"experiment_id": "0", "run_name": "from-a-job"})["run"]["info"]["run_id"]
call("runs/log-metric", {"run_id": run, "key": "job_accuracy", "value": 0.93, "timestamp": 0, "step": 1})
print("logged", run)
"""

# The real client, in a container of the mlflow image on the sandbox's network.
CLIENT_SCRIPT = r"""
import mlflow, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("demo")
with mlflow.start_run():
    mlflow.log_metric("loss", 0.25)
    model = LinearRegression().fit(np.arange(10).reshape(-1, 1), 2 * np.arange(10) + 1)
    mlflow.sklearn.log_model(model, name="model", registered_model_name="demo-model")
names = [m.name for m in mlflow.MlflowClient().search_registered_models()]
print("registered", names)
"""


def wait_for(condition, *, what: str, seconds: float = 600):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")


def server_status(tenant) -> str | None:
    return TrackingServer.objects.filter(tenant=tenant).values_list("status", flat=True).first()


def rest(server, path: str, *, auth: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    """Ask the server's REST API from this machine (its address on its own network)."""
    url = f"http://{server.ip}:{naming.PORT}{naming.static_prefix(server.tenant.slug)}/api/2.0/mlflow/{path}"
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - http only
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def sandbox_running(owner, tenant, name: str) -> Sandbox:
    sandbox = sandbox_create(
        owner=owner, tenant=tenant, name=name, catalog_item="python-minimal", flavor="small"
    )
    wait_for(
        lambda: Sandbox.objects.get(pk=sandbox.pk).status in (SandboxStatus.RUNNING, SandboxStatus.ERROR),
        what=f"sandbox {name} to run",
    )
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.RUNNING, sandbox.explanation
    return sandbox


def sandbox_gone(sandbox: Sandbox, actor) -> None:
    sandbox = Sandbox.objects.get(pk=sandbox.pk)
    if sandbox.status not in (SandboxStatus.DELETED,):
        wait_for(
            lambda: Sandbox.objects.get(pk=sandbox.pk).status
            not in ("pending", "provisioning", "starting", "stopping"),
            what="the sandbox to settle",
        )
        sandbox_delete(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=actor)
        wait_for(
            lambda: Sandbox.objects.get(pk=sandbox.pk).status == SandboxStatus.DELETED, what="its deletion"
        )


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def through_gateway(gateway: Gateway, path: str, *, cookie: str | None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"{gateway.url}{path}", headers={"Cookie": cookie} if cookie else {})  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as answer:
            return answer.status, answer.read(), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Location", "")


@pytest.fixture
def gateway(live_server, tmp_path, settings):
    port = int(live_server.url.rsplit(":", 1)[1])
    running = Gateway(portal_port=port, secret=GATEWAY_SECRET, run_dir=tmp_path)
    settings.GATEWAY_SECRET = GATEWAY_SECRET
    settings.GATEWAY_URL = running.url
    try:
        yield running.start()
    finally:
        running.stop()


def test_tracking_end_to_end(
    people, tracking_image_built, published, celery_worker_process, docker_client, local_host, gateway
):
    lab, other, users = people
    published("python-minimal")
    admin = api(users["alice"])
    assert admin.patch("/api/v1/tenants/lab/", {"tracking": True}, format="json").status_code == 200
    wait_for(
        lambda: server_status(lab) in (TrackingStatus.READY, TrackingStatus.ERROR), what="MLflow to answer"
    )
    server = TrackingServer.objects.select_related("tenant").get(tenant=lab)
    assert server.status == TrackingStatus.READY, server.explanation
    assert tracking_server_ready_for(tenant=lab) == server
    config = tracking_client_config(server=server)
    assert config.uri == "http://mlflow:8080/gateway/tracking/lab"

    # Hardened like a node.
    attrs = docker_client.api.inspect_container(naming.container_name(lab.pk))
    assert attrs["Config"]["User"] == "1000:1000"
    assert attrs["HostConfig"]["CapDrop"] == ["ALL"] and not attrs["HostConfig"]["Privileged"]
    assert "no-new-privileges:true" in attrs["HostConfig"]["SecurityOpt"]
    assert not any("password" in value.lower() for value in attrs["Config"]["Env"])

    # Anyone without the tenant's credentials gets 401, whatever network they come from.
    assert rest(server, "experiments/search", body={"max_results": 1})[0] == 401
    assert (
        rest(server, "experiments/search", auth=basic("portal", "wrong"), body={"max_results": 1})[0] == 401
    )

    sandboxes = []
    try:
        notebook = sandbox_running(users["grace"], lab, "nb")
        sandboxes.append(notebook)
        outsider = sandbox_running(users["mallory"], other, "elsewhere")
        sandboxes.append(outsider)

        # A job in the tenant's sandbox logs a metric with what the node was given.
        head = notebook.nodes.get(role="head")
        env = docker_client.api.inspect_container(head.container_name)["Config"]["Env"]
        assert f"MLFLOW_TRACKING_URI={config.uri}" in env
        job = api(users["grace"]).post(
            f"/api/v1/sandboxes/{notebook.pk}/jobs/",
            {"command": f"python3 -c '{REST_JOB}'", "nodes": "head"},
            format="json",
        )
        assert job.status_code in (201, 202), job.content
        job_id = job.json()["id"]
        wait_for(
            lambda: api(users["grace"]).get(f"/api/v1/jobs/{job_id}/").json()["status"]
            in ("succeeded", "failed"),
            what="the job",
        )
        body = api(users["grace"]).get(f"/api/v1/jobs/{job_id}/").json()
        assert body["status"] == "succeeded", body["nodes"]
        auth = basic(config.username, config.password)
        status, runs = rest(server, "runs/search", auth=auth, body={"experiment_ids": ["0"]})
        assert status == 200
        metrics = {m["key"]: m["value"] for run in runs["runs"] for m in run["data"].get("metrics", [])}
        assert metrics.get("job_accuracy") == 0.93

        # The real MLflow client on the sandbox's network logs and registers a model.
        driver = driver_for_host(local_host)
        client_name = f"{settings.SITE}-sbx{notebook.pk}-mlflow-client"
        driver.start(
            NodeSpec(
                name=client_name,
                hostname="client",
                image=tracking_image(),
                network=notebook.network_name,
                user="1000:1000",
                labels={},
                environment={"MLFLOW_TRACKING_URI": config.uri, "HOME": "/tmp"},  # noqa: S108
                nano_cpus=1_000_000_000,
                memory_bytes=1024**3,
                command=("sleep", "infinity"),
                secret_files={naming.CREDENTIALS_FILE: credentials_file(server)},
            )
        )
        try:
            ran = driver.exec_start(
                name=client_name,
                command=[
                    "sh",
                    "-c",
                    "mkdir -p $HOME/.mlflow"
                    " && ln -s /run/sandbox-secrets/mlflow_credentials $HOME/.mlflow/credentials"
                    f" && cd /tmp && python -c '{CLIENT_SCRIPT}'",
                ],
            )
        finally:
            driver.remove(name=client_name)
        assert ran.exit_code == 0, ran.output
        assert "registered ['demo-model']" in ran.output, ran.output
        status, models = rest(server, "registered-models/search", auth=auth)
        assert status == 200 and [m["name"] for m in models["registered_models"]] == ["demo-model"]

        # Its container dies: the reconcile pass starts it again, with the same data, on the
        # tenant's sandbox networks again.
        docker_client.api.remove_container(naming.container_name(lab.pk), force=True)
        assert tracking_reconcile()["restarted"] == 1
        wait_for(
            lambda: server_status(lab) in (TrackingStatus.READY, TrackingStatus.ERROR), what="MLflow again"
        )
        server.refresh_from_db()
        assert server.status == TrackingStatus.READY, server.explanation
        status, models = rest(server, "registered-models/search", auth=auth)
        assert status == 200 and [m["name"] for m in models["registered_models"]] == ["demo-model"]
        joined = docker_client.api.inspect_container(naming.container_name(lab.pk))["NetworkSettings"][
            "Networks"
        ]
        assert notebook.network_name in joined

        # Another tenant's node finds no `mlflow`, and cannot reach the server's addresses.
        outsider_head = outsider.nodes.get(role="head")
        ips = [
            n["IPAddress"]
            for n in docker_client.api.inspect_container(naming.container_name(lab.pk))["NetworkSettings"][
                "Networks"
            ].values()
        ]
        probe = (
            "import socket, sys\n"
            f"try:\n    socket.getaddrinfo('mlflow', {naming.PORT}); sys.exit('resolved mlflow')\n"
            "except socket.gaierror: pass\n"
            f"for ip in {ips!r}:\n"
            "    s = socket.socket(); s.settimeout(5)\n"
            f"    try:\n        s.connect((ip, {naming.PORT})); sys.exit('reached ' + ip)\n"
            "    except OSError: pass\n"
            "print('isolated')\n"
        )
        isolated = driver_for_host(local_host).exec_start(
            name=outsider_head.container_name, command=["python3", "-c", probe]
        )
        assert isolated.exit_code == 0 and "isolated" in isolated.output, isolated.output
        assert not any(
            "MLFLOW" in value
            for value in docker_client.api.inspect_container(outsider_head.container_name)["Config"]["Env"]
        )

        # The MLflow UI through the gateway: a member, not another tenant's user, not a stranger.
        status, page, _ = through_gateway(
            gateway, "/gateway/tracking/lab/", cookie=session_cookie(users["grace"])
        )
        assert status == 200 and b"MLflow" in page
        status, page, _ = through_gateway(
            gateway,
            "/gateway/tracking/lab/ajax-api/2.0/mlflow/registered-models/search",
            cookie=session_cookie(users["grace"]),
        )
        assert status == 200 and b"demo-model" in page
        assert (
            through_gateway(gateway, "/gateway/tracking/lab/", cookie=session_cookie(users["mallory"]))[0]
            == 404
        )
        status, _, location = through_gateway(gateway, "/gateway/tracking/lab/", cookie=None)
        assert status == 302 and "/login/" in location
    finally:
        for sandbox in sandboxes:
            sandbox_gone(sandbox, users["alice"])
    for sandbox in sandboxes:
        assert leftovers(docker_client, sandbox.pk) == {"containers": [], "networks": [], "volumes": []}

    # Off: the container and its network go; its database and volume stay, with their storage.
    assert admin.patch("/api/v1/tenants/lab/", {"tracking": False}, format="json").json()["tracking"] is False
    wait_for(lambda: server_status(lab) == TrackingStatus.DISABLED, what="tracking to stop")
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(naming.container_name(lab.pk))
    assert not docker_client.api.networks(names=[naming.network_name(lab.pk)])
    docker_client.api.inspect_volume(naming.volume_name(lab.pk))
    assert tracking_database_exists(name=naming.database_name(lab.pk))
    assert tenant_usage(tenant=lab).storage_gib == settings.TRACKING_STORAGE_GIB

    # Deleting the data: nothing of the tracking server is left, and the storage is free.
    assert admin.delete("/api/v1/tenants/lab/tracking/").status_code == 204
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_volume(naming.volume_name(lab.pk))
    assert not tracking_database_exists(name=naming.database_name(lab.pk))
    assert not TrackingServer.objects.filter(tenant=lab).exists()
    assert tenant_usage(tenant=lab).storage_gib == 0
    label = {"label": [f"org.sandbox-portal.tracking={lab.pk}", f"{SITE_LABEL}={settings.SITE}"]}
    assert docker_client.api.containers(all=True, filters=label) == []
    assert docker_client.api.networks(filters=label) == []
