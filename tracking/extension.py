"""How sandboxes get the tenant's tracking server (provisioning.extensions): each node of a
sandbox on the server's host gets MLFLOW_TRACKING_URI and the credentials as a secret file, and
the server joins the sandbox's network under the alias the URI names."""

import logging

from provisioning.drivers import DriverError
from provisioning.extensions import NodeAdditions, SandboxExtension
from tracking import naming
from tracking.containers import credentials_file
from tracking.selectors import tracking_server_ready_for
from tracking.services import tracking_client_config, tracking_join_network

log = logging.getLogger(__name__)

#: The reason a tracking tenant's launch gives the warm pool (counted with its misses).
POOL_REFUSAL = "tracking"


class TrackingSandboxExtension(SandboxExtension):
    def node_additions(self, *, node) -> NodeAdditions:
        server = tracking_server_ready_for(tenant=node.sandbox.tenant)
        # The server runs on one engine and joins bridges of that engine only.
        if server is None or node.host_id != server.host_id or node.sandbox.swarm:
            return NodeAdditions()
        return NodeAdditions(
            environment={"MLFLOW_TRACKING_URI": tracking_client_config(server=server).uri},
            secret_files={naming.CREDENTIALS_FILE: credentials_file(server)},
        )

    def pool_refusal(self, *, sandbox) -> str:
        # MLFLOW_TRACKING_URI is environment, which a pooled node cannot be given after its
        # start: a tenant with tracking on starts cold, whether its server is up yet or not
        # (a cold node placed on the server's host gets it; a pooled one never could).
        return POOL_REFUSAL if sandbox.tenant.tracking else ""

    def sandbox_network_ready(self, *, sandbox, host, network: str) -> None:
        server = tracking_server_ready_for(tenant=sandbox.tenant)
        if server is None or host.pk != server.host_id or sandbox.swarm:
            return
        try:
            tracking_join_network(server=server, network=network)
        except DriverError as exc:
            log.warning("tracking server of %s did not join %s: %s", sandbox.tenant, network, exc)
