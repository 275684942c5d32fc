"""The drift signal without an engine: the replicas' summaries read from their Prometheus text,
merged over replicas, compared with the training data, and what the reconciler keeps of them."""

import math
import statistics
from decimal import Decimal

import pytest

from catalog.models import Flavor
from provisioning.tests.conftest import fake_host, member, tenant  # noqa: F401 - fixtures
from serving.drift import DriftVerdict, drift_assess
from serving.input_stats import input_windows_merge, replica_summaries_parse
from serving.models import EndpointInputStats
from serving.selectors import endpoint_drift
from serving.services.endpoints import endpoint_create
from serving.services.reconcile import input_stats_record, replica_counters_parse

# As prometheus_client writes the runtime's collector (serving/image/portal_runtime.py), after
# MLServer's own families; a feature name that needs escaping, and the NaN std pandas gives a
# one-row training column.
REPLICA_METRICS = r"""
# HELP rest_server_requests_total Multiprocess metric
# TYPE rest_server_requests_total counter
rest_server_requests_total{app_name="mlserver",method="POST",path="/v2/models/{model_name}/infer",status_code="200"} 3.0
# HELP portal_model_inputs The last inference inputs, per feature
# TYPE portal_model_inputs gauge
portal_model_inputs{feature="x1",stat="rows"} 4.0
portal_model_inputs{feature="x1",stat="mean"} 2.5
portal_model_inputs{feature="x1",stat="std"} 1.118033988749895
portal_model_inputs{feature="x1",stat="min"} 1.0
portal_model_inputs{feature="x1",stat="max"} 4.0
portal_model_inputs{feature="a \"b\"",stat="rows"} 1.0
portal_model_inputs{feature="a \"b\"",stat="mean"} -1e-05
portal_model_inputs{feature="a \"b\"",stat="std"} 0.0
portal_model_inputs{feature="a \"b\"",stat="min"} -1e-05
portal_model_inputs{feature="a \"b\"",stat="max"} -1e-05
# HELP portal_model_training The model's training data, per feature
# TYPE portal_model_training gauge
portal_model_training{feature="x1",stat="count"} 10.0
portal_model_training{feature="x1",stat="mean"} 4.5
portal_model_training{feature="x1",stat="std"} 3.0276503540974917
portal_model_training{feature="lone",stat="count"} 1.0
portal_model_training{feature="lone",stat="mean"} 7.0
portal_model_training{feature="lone",stat="std"} NaN
"""  # noqa: E501


def test_the_replicas_summaries_are_read_from_its_metrics():
    inputs, training = replica_summaries_parse(REPLICA_METRICS)
    assert inputs == {
        "x1": {"rows": 4, "mean": 2.5, "std": 1.118033988749895, "min": 1.0, "max": 4.0},
        'a "b"': {"rows": 1, "mean": -1e-05, "std": 0.0, "min": -1e-05, "max": -1e-05},
    }
    assert training == {
        "x1": {"count": 10.0, "mean": 4.5, "std": 3.0276503540974917},
        "lone": {"count": 1.0, "mean": 7.0},
    }
    # The counters beside them are read as before.
    assert replica_counters_parse(REPLICA_METRICS)["requests"] == 3


def test_a_model_server_without_the_runtime_says_nothing_of_its_training_data():
    assert replica_summaries_parse("# TYPE rest_server_requests_total counter\n") == ({}, None)
    no_stats = "# HELP portal_model_training x\n# TYPE portal_model_training gauge\n"
    assert replica_summaries_parse(no_stats) == ({}, {})


def summary(values):
    return {
        "rows": len(values),
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values),
        "min": min(values),
        "max": max(values),
    }


def test_windows_merge_as_if_one_replica_had_seen_every_row():
    first, second, third = [1.0, 2.0, 9.0], [4.0, 4.0, 4.0, 4.0, 10.0], [-3.0]
    merged = input_windows_merge(
        [{"x": summary(first), "y": summary([5.0])}, {"x": summary(second)}, {"x": summary(third)}]
    )
    expected = summary(first + second + third)
    assert merged["x"]["rows"] == expected["rows"] == 9
    for stat in ("mean", "std", "min", "max"):
        assert math.isclose(merged["x"][stat], expected[stat]), stat
    assert merged["y"] == summary([5.0])
    assert input_windows_merge([]) == {}


def training(mean, std):
    return {"count": 100.0, "mean": mean, "std": std, "min": mean - 2 * std, "max": mean + 2 * std}


def recent(mean, rows=50):
    return {"rows": rows, "mean": mean, "std": 1.0, "min": mean - 1, "max": mean + 1}


def test_features_whose_mean_moved_past_the_threshold_are_flagged():
    drift = drift_assess(
        inputs={"x1": recent(7.9), "x2": recent(0.1), "x10": recent(3.0), "x3": recent(-2.1)},
        training={
            "x1": training(5.0, 2.0),
            "x2": training(0.0, 1.0),
            "x10": training(3.0, 0.0),
            "x3": training(0.4, 1.0),
        },
        training_read=True,
        threshold=0.5,
    )
    assert drift.verdict == DriftVerdict.DRIFTED and drift.drifted_count == 2 and drift.rows == 50
    assert [(f.name, f.score, f.drifted) for f in drift.features] == [
        ("x1", pytest.approx(1.45), True),
        ("x2", pytest.approx(0.1), False),
        ("x3", pytest.approx(2.5), True),
        ("x10", 0.0, False),  # a constant in training that stayed put
    ]
    assert drift.summary.startswith(
        "2 of 4 features drifted: x1 mean 7.9 vs 5 in training, x3 mean -2.1 vs 0.4 in training"
    )


def test_a_constant_that_moved_has_drifted_without_a_score():
    drift = drift_assess(
        inputs={"flag": recent(1.0)}, training={"flag": training(0.0, 0.0)}, training_read=True, threshold=0.5
    )
    assert drift.verdict == DriftVerdict.DRIFTED
    assert [(f.score, f.drifted) for f in drift.features] == [(None, True)]


def test_inputs_like_the_training_data_have_not_drifted():
    drift = drift_assess(
        inputs={"x": recent(5.2, rows=1)},
        training={"x": training(5.0, 2.0)},
        training_read=True,
        threshold=0.5,
    )
    assert drift.verdict == DriftVerdict.STEADY and drift.drifted_count == 0
    assert drift.summary.startswith("No drift: in 1 feature the recent mean is within 0.5 training standard")


def test_what_the_signal_says_before_it_can_compare():
    nothing = drift_assess(inputs={}, training={}, training_read=False, threshold=0.5)
    assert nothing.verdict == DriftVerdict.NO_REQUESTS and nothing.summary.startswith("No requests yet")
    waiting = drift_assess(inputs={}, training={"x": training(5.0, 2.0)}, training_read=True, threshold=0.5)
    assert waiting.verdict == DriftVerdict.NO_REQUESTS
    assert [(f.name, f.recent, f.score) for f in waiting.features] == [("x", None, None)]
    for inputs in ({}, {"x": recent(1.0)}):
        bare = drift_assess(inputs=inputs, training={}, training_read=True, threshold=0.5)
        assert bare.verdict == DriftVerdict.NO_TRAINING
        assert 'metadata={"training_stats": X.describe().to_dict()}' in bare.summary
    apart = drift_assess(
        inputs={"0": recent(1.0)}, training={"x": training(5.0, 2.0)}, training_read=True, threshold=0.5
    )
    assert apart.verdict == DriftVerdict.NO_COMMON_FEATURES
    assert "requests (0)" in apart.summary and "statistics (x)" in apart.summary


@pytest.fixture
def endpoint(member, tenant, fake_host):  # noqa: F811
    Flavor.objects.create(name="serve", cpus=Decimal("1"), memory_mib=1024, gpus=0, disk_gib=1)
    return endpoint_create(
        owner=member,
        tenant=tenant,
        name="line",
        model_name="line",
        model_version="2",
        min_replicas=1,
        max_replicas=2,
        flavor="serve",
    )


@pytest.mark.django_db
def test_the_reconciler_keeps_the_merged_window_and_the_served_versions_training_data(endpoint):
    old, new = {"x": training(1.0, 1.0)}, {"x": training(5.0, 2.0)}
    input_stats_record(
        endpoint=endpoint,
        summaries=[("1", {"x": summary([1.0, 2.0])}, old), ("2", {"x": summary([9.0, 10.0])}, new)],
    )
    stats = EndpointInputStats.objects.get(endpoint=endpoint)
    assert stats.window == {"x": pytest.approx(summary([1.0, 2.0, 9.0, 10.0]))}
    assert (stats.training, stats.training_version) == (new, "2")
    assert stats.window_updated is not None

    # Replicas that restarted (no request since) leave the last window in place.
    input_stats_record(endpoint=endpoint, summaries=[("2", {}, new)])
    stats.refresh_from_db()
    assert stats.window["x"]["rows"] == 4
    drift = endpoint_drift(endpoint=endpoint.__class__.objects.get(pk=endpoint.pk))
    assert drift.verdict == DriftVerdict.STEADY and drift.training_version == "2" and drift.rows == 4

    # A replica of an older model server publishes no training family: what was known stays.
    input_stats_record(endpoint=endpoint, summaries=[("2", {}, None)])
    stats.refresh_from_db()
    assert stats.training == new
