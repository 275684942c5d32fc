"""From a node row to the NodeSpec a driver runs: image, limits, hardening, environment."""

from decimal import Decimal

from provisioning.drivers import HealthCheck, Mount, NodeSpec
from provisioning.models import DataTap, Node, NodeStatus
from provisioning.sshkeys import ssh_public_key

MASTER_PORT = 29500
LABEL_PREFIX = "org.sandbox-portal"


def node_rank(node: Node) -> int:
    """head-0 is rank 0; the other roles follow in name order, then by index."""
    return _ordered_nodes(node.sandbox).index((node.role, node.index))


def _ordered_nodes(sandbox) -> list[tuple[str, int]]:
    live = sandbox.nodes.exclude(status=NodeStatus.DELETED).values_list("role", "index")
    return sorted(live, key=lambda ri: (ri[0] != "head", ri[0], ri[1]))


def node_labels(node: Node) -> dict[str, str]:
    return {
        f"{LABEL_PREFIX}.sandbox": str(node.sandbox_id),
        f"{LABEL_PREFIX}.node": str(node.pk),
        f"{LABEL_PREFIX}.tenant": node.sandbox.tenant.slug,
    }


def sandbox_labels(sandbox) -> dict[str, str]:
    return {f"{LABEL_PREFIX}.sandbox": str(sandbox.pk), f"{LABEL_PREFIX}.tenant": sandbox.tenant.slug}


def datatap_mounts(sandbox) -> list[Mount]:
    """Each DataTap at /data/<name>: a hostpath bound in place, an NFS export through the
    sandbox's own volume on the node's host; read-only where the DataTap is."""
    return [
        Mount(
            source=tap.path if tap.kind == DataTap.Kind.HOSTPATH else sandbox.datatap_volume(tap),
            target=tap.mount_target,
            kind="bind" if tap.kind == DataTap.Kind.HOSTPATH else "volume",
            read_only=tap.read_only,
        )
        for tap in sandbox.datataps.order_by("name")
    ]


def node_spec(node: Node) -> NodeSpec:
    sandbox = node.sandbox
    manifest = sandbox.catalog_item.manifest
    role = manifest["roles"][node.role]
    user = manifest["user"]
    world = _ordered_nodes(sandbox)
    rank = world.index((node.role, node.index))
    environment = {
        **manifest.get("environment", {}),
        "SANDBOX_ID": str(sandbox.pk),
        "SANDBOX_NAME": sandbox.name,
        "SANDBOX_ROLE": node.role,
        "SANDBOX_NODE": node.hostname,
        "MASTER_ADDR": "head-0",
        "MASTER_PORT": str(MASTER_PORT),
        "WORLD_SIZE": str(len(world)),
        "NODE_RANK": str(rank),
        "RANK": str(rank),  # one process per node
        # sandbox-entrypoint installs it and the private key (a secret file) in the user's
        # ~/.ssh: passwordless SSH among nodes.
        "SANDBOX_SSH_AUTHORIZED_KEY": ssh_public_key(
            sandbox.ssh_private_key, comment=f"sandbox-{sandbox.pk}"
        ),
    }
    healthcheck = role.get("healthcheck")
    return NodeSpec(
        name=node.container_name,
        hostname=node.hostname,
        image=sandbox.catalog_item.image,
        network=sandbox.network_name,
        user=f"{user['uid']}:{user['gid']}",
        labels=node_labels(node),
        environment=environment,
        nano_cpus=int(Decimal(node.cpus) * 1_000_000_000),
        memory_bytes=node.memory_mib * 1024 * 1024,
        gpu_uuids=tuple(node.gpu_uuids),
        cap_add=tuple(manifest.get("capabilities", [])),
        mounts=(
            Mount(source=sandbox.workspace_volume, target=manifest.get("workspace", "/workspace")),
            *datatap_mounts(sandbox),
        ),
        healthcheck=HealthCheck(
            test=healthcheck["test"],
            interval_s=healthcheck.get("interval_s", 2),
            timeout_s=healthcheck.get("timeout_s", 5),
            retries=healthcheck.get("retries", 30),
            start_period_s=healthcheck.get("start_period_s", 60),
        )
        if healthcheck
        else None,
        # Files, not environment variables: see NodeSpec.secret_files.
        secret_files={"ssh_private_key": sandbox.ssh_private_key, "jupyter_token": sandbox.secret},
    )
