"""The drift signal for real: predictions through the gateway to two MLServer replicas, whose
runtime keeps their inputs; the reconciler reads both windows and the model's training
statistics from their metrics ports, and the API, /metrics and the page say what drifted."""

import statistics

import pytest
from django.test import Client

from serving.services.reconcile import serving_reconcile
from tests.notebooks.browser import wait_for
from tests.serving.test_endpoints_docker import containers_of, deploy, endpoint_body, infer, settled

pytestmark = pytest.mark.django_db(transaction=True)

#: Run in the image against its runtime module: the window keeps the last rows only, features are
#: named as the module says, and what cannot be summarised is refused with a reason.
RUNTIME_CHECK = """
import math
from mlserver.types import InferenceRequest
from portal_runtime import InputWindow, request_columns, training_summary

def request(body):
    return InferenceRequest.model_validate(body)

window = InputWindow(3)
window.add({"x": [1.0, 2.0]})
window.add({"x": [3.0, 4.0, 5.0], "y": [7.0]})
assert window.summary() == {
    "x": {"rows": 3, "mean": 4.0, "std": math.sqrt(2 / 3), "min": 3.0, "max": 5.0},
    "y": {"rows": 1, "mean": 7.0, "std": 0.0, "min": 7.0, "max": 7.0},
}, window.summary()

tensor = {"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, float("nan")]}
assert request_columns(request({"inputs": [tensor]}), ["a", "b"]) == {"a": [1.0, 3.0], "b": [2.0]}
assert request_columns(request({"inputs": [tensor]}), ["a"]) == {"0": [1.0, 3.0], "1": [2.0]}
columns = {
    "parameters": {"content_type": "pd"},
    "inputs": [
        {"name": "age", "shape": [2, 1], "datatype": "INT64", "data": [30, 40]},
        {"name": "score", "shape": [2], "datatype": "FP32", "data": [0.5, 1.5]},
    ],
}
assert request_columns(request(columns), []) == {"age": [30.0, 40.0], "score": [0.5, 1.5]}
words = {"inputs": [{"name": "city", "shape": [1], "datatype": "BYTES", "data": ["Oslo"]}]}
try:
    request_columns(request(words), [])
except ValueError as exc:
    assert "city" in str(exc) and "BYTES" in str(exc), exc
else:
    raise AssertionError("words were summarised")

described = {0: {"count": 3.0, "mean": 2.0, "std": 1.0, "25%": 1.5}, "city": {"count": 3, "unique": 2}}
assert training_summary({"training_stats": described}) == {"0": {"count": 3.0, "mean": 2.0, "std": 1.0}}
assert training_summary(None) == {}
print("runtime ok")
"""


def test_the_runtime_keeps_a_bounded_window_of_named_features(model_server_published, docker_client):
    output = docker_client.containers.run(
        model_server_published,
        entrypoint=["python3", "-c", RUNTIME_CHECK],
        remove=True,
        network_mode="none",
    )
    assert output.decode().strip().endswith("runtime ok")


def test_inputs_far_from_the_training_data_are_flagged(teams, gateway, serving_worker, docker_client):
    _lab, _other, clients = teams
    client = clients["lab"]
    pk = deploy(client, name="drifty")["id"]
    url = settled(client, pk, version="1")["url"]
    key = client.post(f"/api/v1/endpoints/{pk}/keys/", {"name": "app"}, format="json").json()["key"]

    # Read before any request: the model's training statistics (x = 0..9), no window yet.
    serving_reconcile()
    drift = endpoint_body(client, pk)["drift"]
    assert (drift["verdict"], drift["rows"], drift["training_version"]) == ("no_requests", 0, "1")
    assert drift["features"][0]["training"] == {
        "count": 10.0,
        "mean": 4.5,
        "std": pytest.approx(statistics.stdev(range(10))),
        "min": 0.0,
        "max": 9.0,
    }

    # Inputs like the training data, spread over both replicas by the gateway.
    like_training = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    for xs in (like_training[:3], like_training[3:6], like_training[6:8], like_training[8:]):
        assert infer(url, key, xs) == (200, [2 * x + 1 for x in xs])
    serving_reconcile()
    drift = endpoint_body(client, pk)["drift"]
    assert (drift["verdict"], drift["rows"], drift["drifted_features"]) == ("steady", 10, 0), drift
    (feature,) = drift["features"]
    assert feature["name"] == "0" and feature["drifted"] is False
    assert feature["recent"] == {
        "rows": 10,
        "mean": pytest.approx(4.5),
        "std": pytest.approx(statistics.pstdev(like_training)),
        "min": 0.0,
        "max": 9.0,
    }
    assert feature["score"] == pytest.approx(0.0, abs=1e-9)

    # Then inputs far from it: the window's mean moves past the threshold.
    far = [100.0] * 30
    for _ in range(3):
        assert infer(url, key, far)[0] == 200
    seen = like_training + far * 3
    serving_reconcile()
    drift = endpoint_body(client, pk)["drift"]
    assert (drift["verdict"], drift["rows"], drift["drifted_features"]) == ("drifted", 100, 1), drift
    (feature,) = drift["features"]
    assert feature["recent"]["mean"] == pytest.approx(statistics.fmean(seen))
    assert feature["recent"]["std"] == pytest.approx(statistics.pstdev(seen))
    assert (feature["recent"]["min"], feature["recent"]["max"]) == (0.0, 100.0)
    assert feature["score"] == pytest.approx((statistics.fmean(seen) - 4.5) / statistics.stdev(range(10)))
    assert drift["summary"].startswith("1 of 1 feature drifted: 0 mean 90.5 vs 4.5 in training")
    metrics = Client().get("/metrics").content.decode()
    assert 'portal_endpoint_drift_features{endpoint="drifty",tenant="lab"} 1.0' in metrics

    assert client.delete(f"/api/v1/endpoints/{pk}/").status_code == 202
    wait_for(lambda: not containers_of(docker_client, pk), what="the replicas' removal")
