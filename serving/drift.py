"""The drift signal of an endpoint: how far the recent inference inputs' means are from the
training data's, per feature, in training standard deviations. Pure: it compares two summaries
(serving.input_stats) and says what it found in a sentence.

A deliberately simple signal: a shifted mean is what it sees, not a changed shape (a spread that
grew around the same mean passes). Features are compared by name, so the training statistics
must name the columns as the requests name the features."""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from serving.input_stats import Summary

TRAINING_STATS_HINT = (
    'log the model with metadata={"training_stats": X.describe().to_dict()}, '
    "X being the training features as a pandas DataFrame"
)


class DriftVerdict(models.TextChoices):
    NO_REQUESTS = "no_requests", "No inference input seen yet"
    NO_TRAINING = "no_training", "The model carries no training statistics"
    NO_COMMON_FEATURES = "no_common_features", "No feature of the inputs is in the training statistics"
    STEADY = "steady", "Every feature's recent mean is within the threshold"
    DRIFTED = "drifted", "At least one feature's recent mean is past the threshold"


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    training: dict | None  # count, mean, std, min, max; None when the training data lacks it
    recent: dict | None  # rows, mean, std, min, max; None when no request carried it
    #: |recent mean - training mean| / training std; None when either side is missing, or the
    #: training std is unknown, or it is 0 and the means differ (then drifted: a constant moved).
    score: float | None
    drifted: bool


@dataclass(frozen=True)
class Drift:
    verdict: str  # a DriftVerdict
    summary: str  # the verdict in a sentence
    threshold: float
    rows: int  # rows in the recent window (the most any feature has)
    features: list[FeatureDrift] = field(default_factory=list)
    as_of: datetime | None = None  # when the window was last seen to change
    training_version: str = ""  # the model version the training statistics are of

    @property
    def drifted_count(self) -> int:
        return sum(feature.drifted for feature in self.features)


def drift_assess(*, inputs: Summary, training: Summary, training_read: bool, threshold: float) -> Drift:
    """`training_read`: whether a replica's model was read at all (before that, an empty
    `training` says nothing about the model)."""
    rows = max((stats["rows"] for stats in inputs.values()), default=0)
    names = sorted(inputs.keys() | training.keys(), key=_natural)
    features = [_feature(name, training.get(name), inputs.get(name), threshold) for name in names]

    def drift(verdict: DriftVerdict, summary: str) -> Drift:
        return Drift(verdict=verdict, summary=summary, threshold=threshold, rows=rows, features=features)

    if not training and (training_read or rows):
        return drift(DriftVerdict.NO_TRAINING, f"No training statistics in the model: {TRAINING_STATS_HINT}.")
    if not rows:
        return drift(
            DriftVerdict.NO_REQUESTS, "No requests yet: the signal starts with the first predictions."
        )
    compared = [f for f in features if f.training is not None and f.recent is not None]
    if not compared:
        return drift(
            DriftVerdict.NO_COMMON_FEATURES,
            f"No feature of the requests ({', '.join(sorted(inputs, key=_natural))}) is in the training "
            f"statistics ({', '.join(sorted(training, key=_natural))}): name the training columns as "
            "the requests name the features.",
        )
    moved = [f for f in compared if f.drifted]
    of = f"{len(compared)} feature{'s' if len(compared) != 1 else ''}"
    if not moved:
        return drift(
            DriftVerdict.STEADY,
            f"No drift: in {of} the recent mean is within {threshold:g} training standard deviations "
            f"of the training mean ({rows} rows).",
        )
    details = ", ".join(
        f"{f.name} mean {_num(f.recent['mean'])} vs {_num(f.training['mean'])} in training" for f in moved
    )
    return drift(
        DriftVerdict.DRIFTED,
        f"{len(moved)} of {of} drifted: {details} (more than {threshold:g} training standard "
        f"deviations, over the last {rows} rows).",
    )


def _feature(name: str, training: dict | None, recent: dict | None, threshold: float) -> FeatureDrift:
    score, drifted = None, False
    if training is not None and recent is not None and training.get("std") is not None:
        distance = abs(recent["mean"] - training["mean"])
        if training["std"] > 0:
            score = distance / training["std"]
            drifted = score > threshold
        elif math.isclose(distance, 0.0, abs_tol=1e-12):
            score = 0.0
        else:
            drifted = True
    return FeatureDrift(name=name, training=training, recent=recent, score=score, drifted=drifted)


def _natural(name: str) -> list:
    """x2 before x10, "2" before "10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def _num(value: float) -> str:
    return f"{value:.3g}"
