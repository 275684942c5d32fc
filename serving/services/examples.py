"""A request the served model takes, for the endpoint page's curl line and "try it" form: made
from the model's own metadata (Open Inference Protocol, GET /v2/models/<name>, which MLServer
fills from the MLflow signature: one input per column of a model trained on a DataFrame), so
that what the page offers to send is answered with a prediction, not a 400."""

import json
import math
import urllib.error
import urllib.request

from serving.models import Endpoint, Replica
from serving.states import ReplicaStatus

#: Offered when no replica answers, or the model declares no inputs: one feature, one row.
GENERIC_EXAMPLE = {"inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP64", "data": [1.0]}]}
#: Larger inputs (images, say) make no useful curl line: the generic one is offered instead.
MOST_VALUES = 64
METADATA_TIMEOUT_S = 3


def endpoint_request_example(*, endpoint: Endpoint) -> dict:
    """One row of what the model takes, every value 1 (or "a", or true)."""
    replica = Replica.objects.filter(endpoint=endpoint, status=ReplicaStatus.READY, ip__isnull=False).first()
    if replica is None:
        return GENERIC_EXAMPLE
    url = f"http://{replica.ip}:8080/v2/models/{endpoint.served_model_name}"
    try:
        with urllib.request.urlopen(url, timeout=METADATA_TIMEOUT_S) as answer:  # noqa: S310 - a replica's own address
            declared = json.load(answer).get("inputs") or []
    except (urllib.error.URLError, OSError, ValueError):
        return GENERIC_EXAMPLE
    inputs = []
    for spec in declared:
        # The first dimension is the batch: one row.
        shape = [1, *(max(1, int(size)) for size in (spec.get("shape") or [-1])[1:])]
        datatype = spec.get("datatype") or "FP64"
        count = math.prod(shape)
        if count > MOST_VALUES:
            return GENERIC_EXAMPLE
        value = {"BOOL": True, "BYTES": "a"}.get(datatype, 1.0 if datatype.startswith("FP") else 1)
        inputs.append({"name": spec["name"], "shape": shape, "datatype": datatype, "data": [value] * count})
    return {"inputs": inputs} if inputs else GENERIC_EXAMPLE
