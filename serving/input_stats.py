"""The inference inputs' summaries the replicas publish, read and merged.

Each replica's model server (serving/image/portal_runtime.py) keeps a window of its last inputs
and publishes, on its Prometheus port, per feature:

    portal_model_inputs{feature,stat}    stat: rows, mean, std (over the window, ddof 0), min, max
    portal_model_training{feature,stat}  stat: count, mean, std, min, max (pandas describe of the
                                         training data, from the model's `training_stats` metadata)

A summary maps a feature's name to its stats. Pure functions: no database, no network."""

import math
import re

INPUTS_METRIC = "portal_model_inputs"
TRAINING_METRIC = "portal_model_training"
#: A sample of either family. Label values are escaped as the text format says (\\, \", \n).
SUMMARY_LINE = re.compile(
    rf"^(?P<name>{INPUTS_METRIC}|{TRAINING_METRIC})\{{(?P<labels>.*)\}}\s+(?P<value>\S+)$"
)
LABEL = re.compile(r'(?P<key>[a-zA-Z_]\w*)="(?P<value>(?:[^"\\]|\\.)*)"')
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Summary = dict[str, dict[str, float]]


def replica_summaries_parse(text: str) -> tuple[Summary, Summary | None]:
    """(inputs, training) from a replica's Prometheus text; values that are not finite numbers
    (NaN for the std of one row, a missing stat) are left out. Training is None when the replica
    publishes no such family at all (a model server older than its runtime): nothing is known of
    its model then, which is not the same as a model without training statistics."""
    found: dict[str, Summary] = {INPUTS_METRIC: {}, TRAINING_METRIC: {}}
    for line in text.splitlines():
        match = SUMMARY_LINE.match(line)
        if match is None:
            continue
        labels = {
            m["key"]: re.sub(r"\\[\\\"n]", lambda e: UNESCAPE[e[0]], m["value"])
            for m in LABEL.finditer(match["labels"])
        }
        try:
            value = float(match["value"])
        except ValueError:
            continue
        if "feature" in labels and "stat" in labels and math.isfinite(value):
            found[match["name"]].setdefault(labels["feature"], {})[labels["stat"]] = value
    inputs = {
        feature: {**stats, "rows": int(stats["rows"])}
        for feature, stats in found[INPUTS_METRIC].items()
        if stats.get("rows", 0) >= 1 and {"mean", "std", "min", "max"} <= stats.keys()
    }
    training = {feature: stats for feature, stats in found[TRAINING_METRIC].items() if "mean" in stats}
    published = re.search(rf"^# TYPE {TRAINING_METRIC} gauge$", text, re.MULTILINE) is not None
    return inputs, training if published else None


def input_windows_merge(windows: list[Summary]) -> Summary:
    """The replicas' windows as one: rows added, means weighted by rows, variances pooled
    (each replica's spread plus its mean's distance from the whole's), min of mins, max of maxes."""
    by_feature: dict[str, list[dict[str, float]]] = {}
    for window in windows:
        for feature, stats in window.items():
            by_feature.setdefault(feature, []).append(stats)
    merged = {}
    for feature, parts in by_feature.items():
        rows = sum(part["rows"] for part in parts)
        mean = math.fsum(part["rows"] * part["mean"] for part in parts) / rows
        variance = (
            math.fsum(part["rows"] * (part["std"] ** 2 + (part["mean"] - mean) ** 2) for part in parts) / rows
        )
        merged[feature] = {
            "rows": rows,
            "mean": mean,
            "std": math.sqrt(variance),
            "min": min(part["min"] for part in parts),
            "max": max(part["max"] for part in parts),
        }
    return merged
