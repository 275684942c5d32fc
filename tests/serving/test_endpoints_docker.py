"""Served models for real: MLServer replicas on the local Docker engine behind the nginx gateway,
driven through the API and carried out by a real Celery worker. Predictions are checked against
the models' known coefficients; rollouts and a killed replica run under a steady load whose
every request must succeed."""

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers.docker import SITE_LABEL
from serving.models import Endpoint
from serving.services.reconcile import serving_reconcile
from serving.services.routes import route_file
from tenants.selectors.usage import tenant_usage
from tests.notebooks.browser import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PREDICT = "v2/models/line/infer"


def infer(url: str, key: str | None, xs: list[float]) -> tuple[int, list[float] | dict]:
    body = json.dumps({"inputs": [{"name": "x", "shape": [len(xs), 1], "datatype": "FP64", "data": xs}]})
    request = urllib.request.Request(  # noqa: S310 - the test gateway
        f"{url}{PREDICT}", data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the test gateway
            # Least squares fits the lines to within rounding.
            return answer.status, [round(y, 6) for y in json.loads(answer.read())["outputs"][0]["data"]]
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except ValueError:  # nginx's own error page: the route is gone, not the portal's answer
            return error.code, body.decode(errors="replace")


class Load:
    """A steady, bounded load: `threads` callers in a loop, each request's answer kept."""

    def __init__(self, url: str, key: str, threads: int = 3):
        self.url, self.key = url, key
        self.answers: list[tuple[int, object]] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.answers.append(infer(self.url, self.key, [4.0]))
            except OSError as exc:  # a connection the gateway dropped counts as a failure
                self.answers.append((0, str(exc)))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    @property
    def failures(self):
        return [answer for answer in self.answers if answer[0] != 200]


def deploy(client, *, name: str, version: str = "1", replicas: int = 2) -> dict:
    """POST /api/v1/endpoints/ for lab's model "line" on the serve flavor; its 202 body."""
    created = client.post(
        "/api/v1/endpoints/",
        {
            "tenant": "lab",
            "name": name,
            "model": {"name": "line", "version": version},
            "replicas": {"min": replicas, "max": replicas},
            "flavor": "serve",
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    return created.json()


def endpoint_body(client, pk):
    return client.get(f"/api/v1/endpoints/{pk}/").json()


def settled(client, pk, *, version=None):
    def check():
        body = endpoint_body(client, pk)
        if body["status"] == "error":
            raise AssertionError(f"endpoint in error: {body['status_detail']}")
        items = body["replicas"]["items"]
        done = (
            body["status"] == "ready"
            and len(items) == body["replicas"]["desired"]
            and all(r["status"] == "ready" for r in items)
            and (version is None or all(r["model_version"] == version for r in items))
        )
        return body if done else None

    return wait_for(check, seconds=400, what=f"endpoint {pk} to settle")


def containers_of(docker_client, endpoint_id):
    labels = [f"{LABEL_PREFIX}.endpoint={endpoint_id}", f"{SITE_LABEL}={settings.SITE}"]
    return docker_client.api.containers(all=True, filters={"label": labels})


def test_endpoint_serves_rolls_heals_and_goes(teams, gateway, serving_worker, docker_client):
    lab, _other, clients = teams
    client = clients["lab"]

    created = deploy(client, name="line")
    pk = created["id"]
    assert created["status"] in ("pending", "deploying")
    assert created["protocol"] == "open-inference-v2"
    body = settled(client, pk, version="1")
    assert [(r["host"], r["status"]) for r in body["replicas"]["items"]] == [("local", "ready")] * 2
    url = body["url"]
    assert url == f"{gateway.url}/endpoints/lab/line/"
    assert len(containers_of(docker_client, pk)) == 2
    assert tenant_usage(tenant=lab).memory_mib == 2048

    minted = client.post(f"/api/v1/endpoints/{pk}/keys/", {"name": "app"}, format="json")
    assert minted.status_code == 201
    key = minted.json()["key"]
    assert "key" not in client.get(f"/api/v1/endpoints/{pk}/keys/").json()[0]

    assert infer(url, key, [0.0, 5.0]) == (200, [1.0, 11.0])
    assert infer(url, None, [1.0])[0] == 401
    assert infer(url, key + "x", [1.0])[0] == 401
    assert infer(f"{gateway.url}/endpoints/lab/nosuch/", key, [1.0])[0] == 404
    # Another tenant neither sees the endpoint nor calls it with its own endpoint's key.
    assert clients["other"].get(f"/api/v1/endpoints/{pk}/").status_code == 404
    assert (
        clients["other"].post(f"/api/v1/endpoints/{pk}/keys/", {"name": "x"}, format="json").status_code
        == 404
    )

    # Version 2 rolls out replica by replica under load: no request fails.
    with Load(url, key) as load:
        assert (
            client.patch(f"/api/v1/endpoints/{pk}/", {"model": {"version": "2"}}, format="json").status_code
            == 202
        )
        settled(client, pk, version="2")
    assert load.answers and load.failures == []
    assert {tuple(a[1]) for a in load.answers} <= {(9.0,), (11.0,)}
    assert infer(url, key, [4.0]) == (200, [11.0])

    # Version 3 never loads: rolled back to 2 with a plain explanation, still under load.
    with Load(url, key) as load:
        assert (
            client.patch(f"/api/v1/endpoints/{pk}/", {"model": {"version": "3"}}, format="json").status_code
            == 202
        )
        body = settled(client, pk, version="2")
    assert load.answers and load.failures == []
    assert body["model"]["version"] == "2"
    assert "Version 3" in body["status_detail"] and "rolled back to version 2" in body["status_detail"]

    # A replica killed by hand is replaced while the endpoint keeps answering.
    victim = containers_of(docker_client, pk)[0]
    with Load(url, key) as load:
        docker_client.api.kill(victim["Id"])
        serving_reconcile()
        wait_for(
            lambda: victim["Id"] not in {c["Id"] for c in containers_of(docker_client, pk)},
            what="the dead replica's removal",
        )
        settled(client, pk, version="2")
    assert load.answers and load.failures == []
    assert len(containers_of(docker_client, pk)) == 2

    # Delete: no container, no route, no key, no quota left.
    assert client.delete(f"/api/v1/endpoints/{pk}/").status_code == 202
    wait_for(lambda: not containers_of(docker_client, pk), what="the replicas' removal")
    endpoint = Endpoint.objects.get(pk=pk)
    wait_for(lambda: not route_file(endpoint).exists(), what="the route's removal")
    # The gateway keeps a key's yes for 5 s: until then a request meets no upstream (502).
    wait_for(lambda: infer(url, key, [1.0])[0] == 404, seconds=30, what="the endpoint's URL to answer 404")
    assert client.get(f"/api/v1/endpoints/{pk}/").status_code == 404
    assert endpoint.keys.filter(revoked__isnull=True).count() == 0
    usage = tenant_usage(tenant=lab)
    assert (usage.cpus, usage.memory_mib) == (0, 0)
    assert not docker_client.api.networks(filters={"name": endpoint.network_name})
