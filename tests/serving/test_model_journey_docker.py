"""A model from a sandbox job to an endpoint, for real, with its pages in Chromium.

A tenant admin switches experiment tracking on on the tenant's page; the MLflow tracking server
comes up and the page's MLflow link opens MLflow's UI through the nginx gateway. A job in a
`data-science` sandbox (the MLflow client, MLFLOW_TRACKING_URI and the credentials preset)
trains a scikit-learn model on a DataFrame of named columns and registers it as version 1, the
training data's summary statistics in its metadata (what the endpoint's drift signal compares
the requests with). Through the API an endpoint serves that version with 2 replicas, which fetch
it from the tenant's registry (the folder store of the other serving tests is empty here), and a
bounded load of column-wise Open Inference Protocol requests through the gateway gets correct
predictions with zero errors. The Models page lists the version, and its Deploy button deploys
it again; that endpoint's page shows its status and replica, its curl line answers as shown,
and its "try it" form returns a prediction. Deleting both leaves no container, route, network,
live key or quota; the sandbox and the tracking server go too.

Real Docker engine, registry, PostgreSQL, Celery worker, nginx gateway and Chromium."""

import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from provisioning.models import Sandbox, SandboxStatus
from serving.models import Endpoint
from serving.services.routes import route_file
from tenants.models import Membership, User
from tenants.selectors.usage import tenant_usage
from tests.browser.fixtures import login, screenshot
from tests.notebooks.browser import wait_for
from tests.provisioning.conftest import leftovers, published, wait_for_status  # noqa: F401 - fixture
from tests.serving.test_endpoints_docker import containers_of, deploy, settled
from tests.tracking.conftest import (  # noqa: F401 - fixtures
    tracking_image_built,
    tracking_leftovers_removed,
    tracking_servers_removed,
)
from tracking.models import TrackingServer
from tracking.states import TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "journey of a model"  # noqa: S105 - a test user's
#: The job's script. y = 2 x1 - 3 x2 + 1, which least squares recovers to within rounding.
#: `metadata={"training_stats": X.describe().to_dict()}` is the contract the drift signal reads.
TRAIN = """
import json
import mlflow, mlflow.sklearn, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

X = pd.DataFrame({"x1": [float(i) for i in range(20)], "x2": [float(i % 7) for i in range(20)]})
y = 2 * X["x1"] - 3 * X["x2"] + 1
model = LinearRegression().fit(X, y)
mlflow.set_experiment("journey")
with mlflow.start_run():
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        registered_model_name="line",
        input_example=X.head(3),
        signature=infer_signature(X, model.predict(X)),
        metadata={"training_stats": X.describe().to_dict()},
    )
print("registered version", info.registered_model_version)
stored = mlflow.models.get_model_info(f"models:/line/{info.registered_model_version}")
print("stats of x1", json.dumps(stored.metadata["training_stats"]["x1"], sort_keys=True))
"""
LOAD_REQUESTS = 100
LOAD_THREADS = 4


def line(x1: float, x2: float) -> float:
    return 2 * x1 - 3 * x2 + 1


def infer_columns(url: str, key: str, rows: list[tuple[float, float]]) -> tuple[int, object]:
    """One Open Inference Protocol request with one input per column, as MLServer reads a model
    whose signature names its columns."""
    body = {
        "inputs": [
            {"name": name, "shape": [len(rows), 1], "datatype": "FP64", "data": [row[i] for row in rows]}
            for i, name in enumerate(("x1", "x2"))
        ]
    }
    request = urllib.request.Request(  # noqa: S310 - the test gateway
        f"{url}v2/models/line/infer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the test gateway
            return answer.status, json.loads(answer.read())["outputs"][0]["data"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as exc:  # a connection the gateway dropped counts as a failure
        return 0, str(exc)


def bounded_load(url: str, key: str) -> list[str]:
    """LOAD_REQUESTS requests of one to three rows, from LOAD_THREADS callers at once; every
    answer that is not a 200 with the right predictions, described."""
    problems: list[str] = []
    sent = iter(range(LOAD_REQUESTS))
    lock = threading.Lock()

    def caller():
        while True:
            with lock:
                n = next(sent, None)
            if n is None:
                return
            rows = [(float(n + i), float((n * 3 + i) % 5)) for i in range(1 + n % 3)]
            status, answer = infer_columns(url, key, rows)
            wanted = [line(*row) for row in rows]
            right = (
                status == 200
                and len(answer) == len(wanted)
                and all(abs(got - want) < 1e-6 for got, want in zip(answer, wanted, strict=True))
            )
            if not right:
                with lock:
                    problems.append(f"request {n} {rows}: {status} {answer}")

    threads = [threading.Thread(target=caller) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


@pytest.fixture(scope="module")
def model_store(tmp_path_factory):
    """Overrides the serving tests' folder of trained models with an empty one: every model
    here comes from the tenant's registry."""
    return tmp_path_factory.mktemp("no-models")


@pytest.fixture
def tracking_purged_after():
    """The tenant's tracking server, its database and its sized volume go when the test ends."""
    yield
    tracking_servers_removed()


def test_a_model_goes_from_a_sandbox_job_to_an_endpoint_and_through_its_pages(
    teams,
    gateway,
    serving_worker,
    new_page,
    published,  # noqa: F811 - a fixture, imported above
    tracking_image_built,  # noqa: F811 - a fixture, imported above
    model_server_published,
    tracking_purged_after,
    docker_client,
):
    lab, _other, clients = teams
    client = clients["lab"]
    grace = User.objects.get(username="grace")
    grace.set_password(PASSWORD)
    grace.save(update_fields=["password"])
    # Tenant admin: she switches tracking on, and the endpoints' keys are hers to make.
    Membership.objects.filter(tenant=lab, user=grace).update(role=Membership.Role.ADMIN)
    published("data-science")
    page = new_page()
    login(page, username="grace", password=PASSWORD)

    # The tenant page's switch starts the tracking server; a person reloads until it is ready.
    page.goto("/tenants/lab/")
    page.get_by_label("Run a tracking server for this tenant").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Experiment tracking is starting.")).to_be_visible()

    def mlflow_offered() -> bool:
        page.reload()
        status = TrackingServer.objects.get(tenant=lab)
        assert status.status != TrackingStatus.ERROR, status.explanation
        return page.get_by_role("link", name="Open MLflow").count() == 1

    wait_for(mlflow_offered, seconds=600, every=3, what="the tenant page to offer MLflow")
    expect(page.get_by_test_id("tracking-status")).to_have_text(TrackingStatus.READY.label)
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open MLflow").click()
    mlflow_ui = opened.value
    mlflow_ui.wait_for_load_state()
    assert mlflow_ui.url == f"{gateway.url}/gateway/tracking/lab/"
    # MLflow's own UI (its scripts and its API calls through the gateway too) lists the
    # experiments of the tenant's server.
    expect(mlflow_ui).to_have_title(re.compile("MLflow"), timeout=120_000)
    expect(mlflow_ui.get_by_role("link", name="Default", exact=True)).to_be_visible(timeout=120_000)
    screenshot(mlflow_ui, "journey-mlflow-ui")
    mlflow_ui.close()

    sandbox_id = None
    try:
        # A job in a data-science sandbox trains the model and registers version 1.
        launched = client.post(
            "/api/v1/sandboxes/",
            {
                "tenant": "lab",
                "name": "train",
                "catalog_item": "data-science",
                "flavor": "small",
                "nodes": {"head": 1},
            },
            format="json",
        )
        assert launched.status_code == 202, launched.content
        sandbox_id = launched.json()["id"]
        wait_for_status(client, sandbox_id, {"running"}, seconds=600)
        job = client.post(
            f"/api/v1/sandboxes/{sandbox_id}/jobs/",
            {"command": f"python - <<'EOF'\n{TRAIN}\nEOF", "nodes": "head"},
            format="json",
        )
        assert job.status_code in (201, 202), job.content
        job_url = f"/api/v1/jobs/{job.json()['id']}/"
        body = wait_for(
            lambda: (b := client.get(job_url).json())["status"] in ("succeeded", "failed") and b,
            seconds=900,
            every=2,
            what="the training job",
        )
        [node] = body["nodes"]
        assert body["status"] == "succeeded", node["log"]
        assert "registered version 1" in node["log"], node["log"]
        # The training data's statistics are in the registry, as the drift signal reads them.
        stats = json.loads(node["log"].split("stats of x1 ", 1)[1].splitlines()[0])
        assert (stats["count"], stats["mean"], stats["min"], stats["max"]) == (20.0, 9.5, 0.0, 19.0)

        # Through the API: an endpoint of 2 replicas of version 1, and a key.
        api_endpoint = deploy(client, name="line")["id"]

        # Meanwhile, the Models page lists the version; its Deploy button deploys it again.
        page.goto("/models/")
        row = page.locator("#model-list tbody tr", has_text="line")
        expect(row.locator("td").nth(1)).to_have_text("1")
        row.get_by_role("link", name="Deploy").click()
        expect(page.get_by_label("Registered model")).to_have_value("line")
        expect(page.get_by_label("Version", exact=True)).to_have_value("1")
        page.get_by_label("Name", exact=True).fill("line-ui")
        page.get_by_label("Fewest replicas").fill("1")
        page.get_by_label("Most replicas").fill("1")
        page.get_by_label("Flavor").select_option("serve")
        page.get_by_role("button", name="Deploy").click()
        expect(page.get_by_text("Endpoint line-ui is being deployed.")).to_be_visible()
        ui_endpoint = Endpoint.objects.get(tenant=lab, name="line-ui")
        assert urlsplit(page.url).path == f"/endpoints/{ui_endpoint.pk}/"
        assert (ui_endpoint.model_name, ui_endpoint.model_version) == ("line", "1")

        body = settled(client, api_endpoint, version="1")
        assert [(r["host"], r["status"]) for r in body["replicas"]["items"]] == [("local", "ready")] * 2
        assert len(containers_of(docker_client, api_endpoint)) == 2
        url = body["url"]
        assert url == f"{gateway.url}/endpoints/lab/line/"
        minted = client.post(f"/api/v1/endpoints/{api_endpoint}/keys/", {"name": "load"}, format="json")
        assert minted.status_code == 201
        key = minted.json()["key"]
        assert bounded_load(url, key) == []

        # The Endpoints page: both, ready, with their replicas.
        settled(client, ui_endpoint.pk, version="1")
        page.goto("/endpoints/")
        listed = page.locator("#endpoint-list tbody tr", has_text="line-ui")
        expect(listed).to_contain_text("ready")
        expect(listed).to_contain_text("1 of 1")
        by_api = page.locator(
            "#endpoint-list tbody tr", has=page.get_by_role("link", name="line", exact=True)
        )
        expect(by_api).to_contain_text("ready")
        expect(by_api).to_contain_text("2 of 2")

        # The deployed one's page: status, its replica, a key, the curl line as shown, and try it.
        page.get_by_role("link", name="line-ui").click()
        expect(page.locator("#endpoint-status .endpoint-status")).to_have_text("ready")
        replicas = page.locator("#endpoint-replicas")
        expect(replicas.locator("caption")).to_contain_text("1 of 1 wanted")
        expect(replicas.locator("tbody tr")).to_have_count(1)
        expect(replicas.locator("tbody tr")).to_contain_text("ready")
        page.get_by_label("Key name").fill("curl")
        page.get_by_role("button", name="Create key").click()
        ui_key = page.locator("#new-endpoint-key").inner_text().strip()
        curl_line = page.locator("#endpoint-curl").inner_text()
        assert f"{gateway.url}/endpoints/lab/line-ui/v2/models/line/infer" in curl_line
        assert '"name": "x1"' in curl_line and '"name": "x2"' in curl_line  # from the model's signature
        called = subprocess.run(  # noqa: S603 - the page's own line, as a person pastes it
            ["bash", "-c", curl_line.replace("curl ", "curl -sS --fail-with-body ", 1)],
            env={"KEY": ui_key, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert called.returncode == 0, called.stderr + called.stdout
        [prediction] = json.loads(called.stdout)["outputs"][0]["data"]
        assert abs(prediction - line(1.0, 1.0)) < 1e-6

        request = page.get_by_label("Request (Open Inference Protocol JSON)")
        offered = json.loads(request.input_value())  # the curl line's request, to start from
        assert [i["name"] for i in offered["inputs"]] == ["x1", "x2"]
        request.fill(
            json.dumps(
                {
                    "inputs": [
                        {"name": "x1", "shape": [1, 1], "datatype": "FP64", "data": [3.0]},
                        {"name": "x2", "shape": [1, 1], "datatype": "FP64", "data": [1.0]},
                    ]
                }
            )
        )
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Answer (200):")).to_be_visible()
        [tried] = json.loads(page.locator("#try-answer").inner_text())["outputs"][0]["data"]
        assert abs(tried - line(3.0, 1.0)) < 1e-6
        screenshot(page, "journey-endpoint-page")

        # Deleting: one on its page, one through the API. Nothing of either is left.
        page.get_by_role("button", name="Delete…").click()
        expect(page.get_by_text("Endpoint line-ui deleted; its replicas are being removed.")).to_be_visible()
        assert client.delete(f"/api/v1/endpoints/{api_endpoint}/").status_code == 202
        for pk in (api_endpoint, ui_endpoint.pk):
            wait_for(
                lambda pk=pk: not containers_of(docker_client, pk), what=f"endpoint {pk}'s replicas to go"
            )
            endpoint = Endpoint.objects.get(pk=pk)
            wait_for(lambda e=endpoint: not route_file(e).exists(), what=f"endpoint {pk}'s route to go")
            wait_for(
                lambda e=endpoint: not docker_client.api.networks(filters={"name": e.network_name}),
                what=f"endpoint {pk}'s network to go",
            )
            assert endpoint.keys.filter(revoked__isnull=True).count() == 0
            assert client.get(f"/api/v1/endpoints/{pk}/").status_code == 404
        # The gateway keeps a key's yes for 5 s: until then a request meets no upstream (502).
        wait_for(
            lambda: infer_columns(url, key, [(1.0, 1.0)])[0] == 404, seconds=30, what="the URL to answer 404"
        )
        usage = tenant_usage(tenant=lab)
        assert (usage.cpus, usage.memory_mib) == (1, 2048)  # the sandbox's, nothing of the endpoints'
    finally:
        if sandbox_id is not None:
            wait_for(
                lambda: Sandbox.objects.get(pk=sandbox_id).status not in ("pending", "provisioning"),
                what="the sandbox to settle",
            )
            assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
            wait_for(
                lambda: Sandbox.objects.get(pk=sandbox_id).status == SandboxStatus.DELETED,
                what="the sandbox's deletion",
            )
    assert leftovers(docker_client, sandbox_id) == {"containers": [], "networks": [], "volumes": []}
