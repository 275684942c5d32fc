"""Names of what a tenant's tracking server owns, from the site and the tenant's id: a retry, or
the next worker after a crash, finds what an earlier attempt made; two sites on one engine or one
PostgreSQL never collide. The site name is [a-z][a-z0-9]*, so these are safe SQL identifiers."""

from django.conf import settings

#: The name a sandbox's nodes reach the server by, on every sandbox network it joins.
ALIAS = "mlflow"
# Not MLflow's usual 5000: deploy/firewall.sh closes that port (the image registry's) to traffic
# from container bridges, nodes' traffic to this server included.
PORT = 8080
#: Where the gateway serves each tenant's MLflow UI; MLflow serves under it (--static-prefix).
GATEWAY_ROOT = "/gateway/tracking/"
#: The secret file (provisioning's secret files) nodes get the credentials in.
CREDENTIALS_FILE = "mlflow_credentials"


def container_name(tenant_id: int) -> str:
    return f"{settings.SITE}-trk{tenant_id}"


def network_name(tenant_id: int) -> str:
    return f"{settings.SITE}-trk{tenant_id}-net"


def volume_name(tenant_id: int) -> str:
    return f"{settings.SITE}-trk{tenant_id}-data"


def database_name(tenant_id: int) -> str:
    """Also the role's name: PostgreSQL lets a tracking role into the database named like it."""
    return f"trk_{settings.SITE}_{tenant_id}"


def static_prefix(slug: str) -> str:
    return f"{GATEWAY_ROOT}{slug}"


def quota_group(tenant_id: int) -> str:
    return f"tracking/{tenant_id}"


def quota_subject(tenant_id: int) -> str:
    return f"tracking/{tenant_id}/artifacts"
