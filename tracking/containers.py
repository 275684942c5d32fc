"""The container a tracking server is, decided in one place (as provisioning.containers decides
a node's): the `mlflow` image (tracking/image, built by `make run`: tracking.image_build), run
like a node, non-root with every capability dropped and no new privileges, with CPU, memory and
pids limits, its artifacts on a sized volume, PostgreSQL's socket folder bound read-only, and its
secrets as files."""

import hashlib

from django.conf import settings

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers import Mount, NodeSpec
from tracking import naming
from tracking.image_build import tracking_platform_image
from tracking.models import TrackingServer

#: The image's own user (tracking/image/Dockerfile).
SERVER_USER = "1000:1000"
#: Where the image keeps artifacts (the volume).
DATA_DIR = "/mlflow"
#: Where tracking-server (the image's entrypoint) finds PostgreSQL's socket.
SOCKET_DIR = "/run/postgresql"


def tracking_image() -> str:
    return tracking_platform_image().reference


def tracking_labels(server: TrackingServer) -> dict[str, str]:
    """No sandbox label: provisioning's reconciler leaves these alone (tracking_reconcile is theirs)."""
    return {f"{LABEL_PREFIX}.tracking": str(server.tenant_id), f"{LABEL_PREFIX}.tenant": server.tenant.slug}


def tracking_server_spec(server: TrackingServer) -> NodeSpec:
    tenant_id = server.tenant_id
    database = naming.database_name(tenant_id)
    return NodeSpec(
        name=naming.container_name(tenant_id),
        hostname=naming.ALIAS,
        image=tracking_image(),
        network=naming.network_name(tenant_id),
        user=SERVER_USER,
        labels=tracking_labels(server),
        environment={
            "MLFLOW_DB_NAME": database,
            "MLFLOW_DB_USER": database,
            "MLFLOW_STATIC_PREFIX": naming.static_prefix(server.tenant.slug),
        },
        nano_cpus=int(settings.TRACKING_CPUS * 1_000_000_000),
        memory_bytes=settings.TRACKING_MEMORY_MIB * 1024 * 1024,
        pids_limit=512,
        mounts=(
            Mount(source=naming.volume_name(tenant_id), target=DATA_DIR),
            Mount(source=settings.TRACKING_PG_SOCKET_DIR, target=SOCKET_DIR, kind="bind", read_only=True),
        ),
        secret_files={
            # libpq's password file: the password is on no command line and in no environment.
            "pgpass": f"*:*:{database}:{database}:{server.db_password}\n",
            "basic_auth.ini": basic_auth_config(server),
            # Derived, so that it stays the same for the server's life without a column of its own.
            "flask_secret_key": hashlib.sha256(f"flask:{server.password}".encode()).hexdigest(),
        },
    )


def basic_auth_config(server: TrackingServer) -> str:
    """MLflow's basic-auth app: one account (the tenant's, which nodes and the gateway use);
    anything without it gets 401. Its user table is the container's own (made again with it)."""
    return (
        "[mlflow]\n"
        "default_permission = MANAGE\n"
        "database_uri = sqlite:////tmp/mlflow-auth/basic_auth.db\n"
        f"admin_username = {server.username}\n"
        f"admin_password = {server.password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )


def credentials_file(server: TrackingServer) -> str:
    """~/.mlflow/credentials, as MLflow's client reads it."""
    return (
        "[mlflow]\n"
        f"mlflow_tracking_username = {server.username}\n"
        f"mlflow_tracking_password = {server.password}\n"
    )
