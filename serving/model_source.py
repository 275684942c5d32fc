"""Where a replica gets its model version from: what its container needs (environment, mounts,
secret files) to fetch `models:/<name>/<version>` when it starts."""

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from common.errors import Unavailable
from provisioning.drivers import Mount


class ModelSourceUnavailable(Unavailable):
    code = "model_source_unavailable"


@dataclass(frozen=True)
class ModelSource:
    environment: dict[str, str]
    mounts: tuple[Mount, ...] = ()
    secret_files: dict[str, str] = field(default_factory=dict)


def model_source(*, endpoint, version: str) -> ModelSource:
    """A folder store (SERVING_MODEL_DIR/<tenant>/<model>/<version>, an MLflow model directory,
    mounted read-only), for sites without a tracking server."""
    folder = Path(settings.SERVING_MODEL_DIR) / endpoint.tenant.slug / endpoint.model_name / version
    if not settings.SERVING_MODEL_DIR or not (folder / "MLmodel").is_file():
        raise ModelSourceUnavailable(
            f"Model {endpoint.model_name!r} version {version} is not in tenant "
            f"{endpoint.tenant.slug!r}'s model registry."
        )
    return ModelSource(
        environment={"MODEL_URI": "/srv/model-source"},
        mounts=(
            Mount(source=str(folder.resolve()), target="/srv/model-source", kind="bind", read_only=True),
        ),
    )


def model_source_release(*, endpoint, network: str) -> None:
    """The endpoint's network on a host goes away: nothing of the source is joined to it."""
