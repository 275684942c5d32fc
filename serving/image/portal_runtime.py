"""The replicas' MLServer runtime: MLflow's, plus what the portal's drift signal reads.

Every successful inference adds the request's numeric inputs to a window of the last
INPUT_WINDOW_ROWS rows (default 1000) per feature. Each scrape of the metrics port (8082) then
summarises that window, and the model's training data, as Prometheus gauges:

    portal_model_inputs{feature="x1",stat="rows|mean|std|min|max"}       std over the window (ddof 0)
    portal_model_training{feature="x1",stat="count|mean|std|min|max"}    as the model carries them

With parallel_workers 0, MLServer's metrics server answers with prometheus_client's default
registry (mlserver/metrics/prometheus.py, PrometheusEndpoint._registry) and the model runs in
that same process, so a collector registered there is what port 8082 serves.

Training statistics: log the model with

    mlflow.sklearn.log_model(..., metadata={"training_stats": X.describe().to_dict()})

where X is a pandas DataFrame of the training features, its columns named as requests name the
features (string names; the 0, 1, ... of a DataFrame made from a NumPy matrix read as "0", "1").
The statistics then sit in the MLmodel file's `metadata`.

Feature names: a request of one named column per input (as MLServer's PandasCodec sends it, each
of shape [n] or [n, 1]) names its features by its inputs. A request of a single 2-D tensor
[n, k] names its k columns as the model signature does when the signature has k names, else
"0", "1", ... by position.

Nothing here may fail a prediction: inputs that cannot be summarised are skipped and logged."""

import contextlib
import math
import os
import threading
from collections import deque

from mlserver.codecs import NumpyCodec
from mlserver.logging import logger
from mlserver.types import Datatype, InferenceRequest, InferenceResponse
from mlserver_mlflow import MLflowRuntime
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

WINDOW_ROWS = int(os.environ.get("INPUT_WINDOW_ROWS", "1000"))
TRAINING_STATS = ("count", "mean", "std", "min", "max")


class InputWindow:
    """The last `rows` values of each feature. Predictions add to it on the event loop while
    the metrics server reads it from a thread of its own: hence the lock."""

    def __init__(self, rows: int):
        self._rows = rows
        self._values: dict[str, deque] = {}
        self._lock = threading.Lock()

    def add(self, columns: dict[str, list[float]]) -> None:
        with self._lock:
            for name, values in columns.items():
                self._values.setdefault(name, deque(maxlen=self._rows)).extend(values)

    def summary(self) -> dict[str, dict[str, float]]:
        with self._lock:
            copies = {name: list(values) for name, values in self._values.items()}
        return {name: _describe(values) for name, values in copies.items() if values}


def _describe(values: list[float]) -> dict[str, float]:
    rows = len(values)
    mean = math.fsum(values) / rows
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / rows)
    return {"rows": rows, "mean": mean, "std": std, "min": min(values), "max": max(values)}


def request_columns(payload: InferenceRequest, signature_names: list[str]) -> dict[str, list[float]]:
    """The request's numeric inputs by feature name; non-finite values left out. Raises
    ValueError for a request it cannot read as rows of features."""
    content_type = payload.parameters.content_type if payload.parameters else None
    inputs = payload.inputs
    if len(inputs) == 1 and len(inputs[0].shape) == 2 and content_type != "pd":
        matrix = _numbers(inputs[0])
        width = matrix.shape[1]
        names = signature_names if len(signature_names) == width else [str(i) for i in range(width)]
        return {name: _finite(matrix[:, i]) for i, name in enumerate(names)}
    columns = {}
    for request_input in inputs:
        if len(request_input.shape) > 2 or (len(request_input.shape) == 2 and request_input.shape[1] != 1):
            raise ValueError(f"input {request_input.name!r} of shape {request_input.shape} is not one column")
        columns[request_input.name] = _finite(_numbers(request_input).reshape(-1))
    return columns


def _numbers(request_input):
    array = NumpyCodec.decode_input(request_input)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"input {request_input.name!r} is {Datatype(request_input.datatype).value}, not numbers"
        )
    return array.astype("float64")


def _finite(values) -> list[float]:
    return [v for v in values.tolist() if math.isfinite(v)]


def training_summary(metadata: dict | None) -> dict[str, dict[str, float]]:
    """The `training_stats` the model was logged with (pandas describe().to_dict()), numeric
    features and finite values only, names as strings."""
    stats = (metadata or {}).get("training_stats") or {}
    summary = {}
    for feature, described in stats.items():
        values = {
            stat: float(described[stat])
            for stat in TRAINING_STATS
            if isinstance(described.get(stat), int | float) and math.isfinite(described[stat])
        }
        if "mean" in values:
            summary[str(feature)] = values
    return summary


class SummaryCollector:
    """Publishes the window and the training data at each scrape."""

    def __init__(self, window: InputWindow, training: dict[str, dict[str, float]]):
        self.window, self.training = window, training

    def describe(self):
        return self._families()

    def collect(self):
        inputs, training = self._families()
        for feature, stats in self.window.summary().items():
            for stat, value in stats.items():
                inputs.add_metric([feature, stat], value)
        for feature, stats in self.training.items():
            for stat, value in stats.items():
                training.add_metric([feature, stat], value)
        return [inputs, training]

    @staticmethod
    def _families():
        labels = ["feature", "stat"]
        return [
            GaugeMetricFamily("portal_model_inputs", "The last inference inputs, per feature", labels=labels),
            GaugeMetricFamily(
                "portal_model_training", "The model's training data, per feature", labels=labels
            ),
        ]


class PortalRuntime(MLflowRuntime):
    async def load(self) -> bool:
        loaded = await super().load()
        self._window = InputWindow(WINDOW_ROWS)
        self._names = []
        self._skipped: set[str] = set()
        training = {}
        try:
            if self._signature is not None:
                self._names = [str(name) for name in self._signature.inputs.input_names()]
            training = training_summary(self._model.metadata.metadata)
        except Exception as exc:  # noqa: BLE001 - the model serves without its drift signal
            logger.warning("portal runtime: no training statistics read: %s", exc)
        self._collector = SummaryCollector(self._window, training)
        try:
            REGISTRY.register(self._collector)
        except ValueError as exc:  # a collector of the same names is there already
            logger.warning("portal runtime: input summary not published: %s", exc)
        return loaded

    async def unload(self) -> bool:
        # AttributeError: never loaded; KeyError: never published.
        with contextlib.suppress(AttributeError, KeyError):
            REGISTRY.unregister(self._collector)
        return await super().unload()

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        response = await super().predict(payload)
        try:
            self._window.add(request_columns(payload, self._names))
        except Exception as exc:  # noqa: BLE001 - never the prediction's failure
            # Once per reason: a client that always sends strings would fill the log otherwise.
            if str(exc) not in self._skipped:
                self._skipped.add(str(exc))
                logger.warning("portal runtime: inputs left out of the window: %s", exc)
        return response
