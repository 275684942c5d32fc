"""Reads of a tenant's model registry (its MLflow tracking server, tracking/), for the Models
page: registered models with their versions. The portal asks the server's REST API at the
address the gateway uses (its own network, reached from this machine as for replicas)."""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from common.errors import Unavailable
from tracking import naming
from tracking.selectors import tracking_server_ready_for

# MLflow runs one worker per server: on a busy machine a search takes seconds.
TIMEOUT_S = 15
MOST_MODELS = 200


class RegistryUnavailable(Unavailable):
    code = "registry_unavailable"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    stage: str
    run_id: str


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    versions: list[ModelVersion]


def registered_models(*, tenant) -> list[RegisteredModel]:
    """The tenant's registered models, newest version first; raises RegistryUnavailable when
    the tenant has no tracking server running."""
    server = tracking_server_ready_for(tenant=tenant)
    if server is None or not server.ip:
        raise RegistryUnavailable(f"Tenant {tenant.slug!r} has no tracking server running.")
    base = f"http://{server.ip}:{naming.PORT}{naming.static_prefix(tenant.slug)}/api/2.0/mlflow"
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    models = _get(base, f"registered-models/search?max_results={MOST_MODELS}", token).get(
        "registered_models", []
    )
    found = []
    for model in sorted(models, key=lambda m: m["name"]):
        query = urllib.parse.urlencode({"filter": f"name='{model['name']}'", "max_results": MOST_MODELS})
        versions = _get(base, f"model-versions/search?{query}", token).get("model_versions", [])
        found.append(
            RegisteredModel(
                name=model["name"],
                description=model.get("description", ""),
                versions=[
                    ModelVersion(
                        version=v["version"], stage=v.get("current_stage", ""), run_id=v.get("run_id", "")
                    )
                    for v in sorted(versions, key=lambda v: int(v["version"]), reverse=True)
                ],
            )
        )
    return found


def _get(base: str, path: str, token: str) -> dict:
    request = urllib.request.Request(f"{base}/{path}", headers={"Authorization": f"Basic {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - the server's own address
            return json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RegistryUnavailable(f"The tracking server did not answer: {exc}") from exc
