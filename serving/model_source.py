"""Where a replica gets its model version from, and what its container needs for it.

A tenant with a tracking server (tracking/): the replica fetches `models:/<name>/<version>` from
that server's registry when it starts (MLFLOW_TRACKING_URI, credentials as a secret file, never
in the environment); the server joins the endpoint's network on its host, so replicas run there.
A site without one may keep MLflow model directories in SERVING_MODEL_DIR/<tenant>/<model>/
<version>/, mounted read-only."""

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from common.errors import Unavailable
from provisioning.drivers import Mount
from tracking.selectors import tracking_server_ready_for
from tracking.services import tracking_client_config, tracking_join_network, tracking_leave_network


class ModelSourceUnavailable(Unavailable):
    code = "model_source_unavailable"


@dataclass(frozen=True)
class ModelSource:
    environment: dict[str, str]
    mounts: tuple[Mount, ...] = ()
    secret_files: dict[str, str] = field(default_factory=dict)
    #: The host a replica must run on to reach the source (the tracking server's), or None.
    host_id: int | None = None


def model_source(*, endpoint, version: str) -> ModelSource:
    server = tracking_server_ready_for(tenant=endpoint.tenant)
    if server is not None:
        config = tracking_client_config(server=server)
        return ModelSource(
            environment={
                "MODEL_URI": f"models:/{endpoint.model_name}/{version}",
                "MLFLOW_TRACKING_URI": config.uri,
            },
            secret_files={
                "mlflow_credentials": (
                    "[mlflow]\n"
                    f"mlflow_tracking_username = {config.username}\n"
                    f"mlflow_tracking_password = {config.password}\n"
                )
            },
            host_id=server.host_id,
        )
    folder = Path(settings.SERVING_MODEL_DIR) / endpoint.tenant.slug / endpoint.model_name / version
    if settings.SERVING_MODEL_DIR and (folder / "MLmodel").is_file():
        return ModelSource(
            environment={"MODEL_URI": "/srv/model-source"},
            mounts=(
                Mount(source=str(folder.resolve()), target="/srv/model-source", kind="bind", read_only=True),
            ),
        )
    raise ModelSourceUnavailable(
        f"Tenant {endpoint.tenant.slug!r} has no tracking server running (enable tracking on the "
        f"tenant's page), so model {endpoint.model_name!r} version {version} cannot be fetched."
    )


def model_source_host(*, endpoint) -> int | None:
    """The host replicas of the endpoint must be placed on, if any."""
    server = tracking_server_ready_for(tenant=endpoint.tenant)
    return server.host_id if server is not None else None


def model_source_connect(*, endpoint, host_id: int) -> None:
    """The endpoint's network exists on `host_id`: the tracking server joins it there."""
    server = tracking_server_ready_for(tenant=endpoint.tenant)
    if server is None:
        return
    if server.host_id != host_id:
        raise ModelSourceUnavailable(
            f"The replica's host cannot reach tenant {endpoint.tenant.slug!r}'s tracking server, "
            f"which runs on host {server.host.name}."
        )
    tracking_join_network(server=server, network=endpoint.network_name)


def model_source_release(*, endpoint, host_id: int) -> None:
    """The endpoint's network on `host_id` goes away: the tracking server leaves it first."""
    server = tracking_server_ready_for(tenant=endpoint.tenant)
    if server is not None and server.host_id == host_id:
        tracking_leave_network(server=server, network=endpoint.network_name)
