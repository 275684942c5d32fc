"""The container a node becomes, decided in one place: image, user, environment, mounts (the
workspace and the DataTaps), limits, hardening, labels and healthcheck.

Driver-neutral: this module makes the NodeSpec (and the volumes and labels around it) that the
driver contract of provisioning.drivers.base takes; a driver only translates it to its engine.
What every driver applies to every node whatever the spec says (never privileged, every
capability dropped but `cap_add`, no new privileges, no swap) is part of that contract.
"""

from collections.abc import Mapping
from decimal import Decimal

from catalog.manifest import HEAD_ROLE, Manifest, Role
from provisioning.drivers import HealthCheck, Mount, NodeSpec
from provisioning.extensions import NodeAdditions, sandbox_extensions
from provisioning.frameworks import node_framework_environment
from provisioning.models import DataTap, Node, PoolNode, Sandbox
from provisioning.sshkeys import ssh_public_key

#: Labels of every object the platform makes carry this prefix; the reconciler finds them by it.
LABEL_PREFIX = "org.sandbox-portal"
#: Processes one node may run: enough for a data loader's workers, not for a fork bomb.
PIDS_LIMIT = 1024
#: How often an engine runs the healthcheck of a node whose services the worker probes once it
#: is up. Readiness is then learnt by probing (provisioning.services.readiness) and this check
#: only tells the reconciler, so it runs calmly instead of spawning a Python process in every
#: node every few seconds.
HEALTHCHECK_CALM_INTERVAL_S = 30


def node_spec(node: Node, *, tap_sources: Mapping[int, str]) -> NodeSpec:
    """Everything a driver needs to run `node`, derived from its rows only, so a retry (or the
    reconciler restarting it) makes the same container. `tap_sources` maps each hostpath
    DataTap's id to its host path as resolved and checked right now
    (provisioning.services.datataps.datatap_sources_check): never the stored path, which a
    symlink may have redirected since."""
    sandbox = node.sandbox
    manifest = sandbox.catalog_item.spec
    additions = [extension.node_additions(node=node) for extension in sandbox_extensions()]
    return NodeSpec(
        name=node.container_name,
        hostname=node.hostname,
        image=sandbox.catalog_item.image,
        network=sandbox.network_name,
        user=manifest.user.container_user,
        labels=node_labels(node),
        environment={**node_environment(node, manifest), **_merged(additions, "environment")},
        nano_cpus=int(Decimal(node.cpus) * 1_000_000_000),
        memory_bytes=node.memory_mib * 1024 * 1024,
        pids_limit=PIDS_LIMIT,
        gpu_uuids=tuple(node.gpu_uuids),
        cap_add=manifest.capabilities,
        mounts=(workspace_mount(sandbox, manifest), *datatap_mounts(sandbox, tap_sources=tap_sources)),
        healthcheck=node_healthcheck(manifest.roles[node.role]),
        # Files only the node's user reads, never environment variables: every process of the
        # node could read those from /proc, and `docker inspect` shows them.
        secret_files={
            **_merged(additions, "secret_files"),
            "ssh_private_key": sandbox.ssh_private_key,
            "jupyter_token": sandbox.secret,
        },
    )


def pool_node_spec(pool_node: PoolNode) -> NodeSpec:
    """A pooled node: hardened like any node, of its item and flavor, on its own network with a
    workspace of its own, and nothing of any tenant: no sandbox in its labels or environment, no
    SSH key, only its own Jupyter token. A launch that claims it gets the rest at the claim
    (provisioning.services.pools.pool_node_adopt): network, name, secrets, workspace."""
    item = pool_node.setting.catalog_item
    manifest = item.spec
    return NodeSpec(
        name=pool_node.container_name,
        hostname=pool_node.hostname,
        image=item.image,
        network=pool_node.network_name,
        user=manifest.user.container_user,
        labels=pool_node_labels(pool_node),
        environment={
            **manifest.environment,
            "SANDBOX_ROLE": pool_node.role,
            "SANDBOX_NODE": pool_node.hostname,
            "SANDBOX_GATEWAY_PREFIX": pool_node.gateway_prefix,
            "JUPYTER_BASE_URL": f"{pool_node.gateway_prefix}jupyter/",
            # Alone until claimed: a one-node cluster of its own.
            **node_framework_environment(
                frameworks=manifest.frameworks,
                head=pool_node.hostname,
                hostname=pool_node.hostname,
                world=[pool_node.hostname],
            ),
        },
        nano_cpus=int(Decimal(pool_node.cpus) * 1_000_000_000),
        memory_bytes=pool_node.memory_mib * 1024 * 1024,
        pids_limit=PIDS_LIMIT,
        cap_add=manifest.capabilities,
        mounts=(Mount(source=pool_node.workspace_volume, target=manifest.workspace),),
        healthcheck=node_healthcheck(manifest.roles[pool_node.role]),
        secret_files={"jupyter_token": pool_node.secret},
    )


def pool_node_labels(pool_node: PoolNode) -> dict[str, str]:
    """Labels of a pooled node's container, network and workspace. A container keeps them once
    a sandbox adopts it (labels cannot change): the reconciler knows it by its new name."""
    return {f"{LABEL_PREFIX}.pool": str(pool_node.pk)}


def _merged(additions: list[NodeAdditions], attribute: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for addition in additions:
        merged.update(getattr(addition, attribute))
    return merged


def node_rank(node: Node) -> int:
    """head-0 is rank 0; the other roles follow in name order, then by index."""
    return _ordered_nodes(node.sandbox).index((node.role, node.index))


def _ordered_nodes(sandbox: Sandbox) -> list[tuple[str, int]]:
    live = sandbox.nodes.live().values_list("role", "index")
    return sorted(live, key=lambda ri: (ri[0] != "head", ri[0], ri[1]))


def node_environment(node: Node, manifest: Manifest) -> dict[str, str]:
    """The image's variables, then the platform's: who the node is and how to reach the others."""
    sandbox = node.sandbox
    world = [f"{role}-{index}" for role, index in _ordered_nodes(sandbox)]
    return {
        **manifest.environment,
        "SANDBOX_ID": str(sandbox.pk),
        "SANDBOX_NAME": sandbox.name,
        "SANDBOX_ROLE": node.role,
        "SANDBOX_NODE": node.hostname,
        # The node's services answer under their gateway paths (/gateway/<node key>/<service>/),
        # the only way a browser reaches them; Jupyter is started once, with this base_url.
        "SANDBOX_GATEWAY_PREFIX": node.gateway_prefix,
        # Where the head's services are: a worker's own pages that a head service proxies (the
        # Spark master's UI shows the workers') link under it.
        "SANDBOX_HEAD_GATEWAY_PREFIX": _head_gateway_prefix(node),
        "JUPYTER_BASE_URL": f"{node.gateway_prefix}jupyter/",
        **node_framework_environment(
            frameworks=manifest.frameworks, head=world[0], hostname=node.hostname, world=world
        ),
        # sandbox-entrypoint installs it and the private key (a secret file) in the user's
        # ~/.ssh: passwordless SSH among nodes.
        "SANDBOX_SSH_AUTHORIZED_KEY": ssh_public_key(
            sandbox.ssh_private_key, comment=f"sandbox-{sandbox.pk}"
        ),
    }


def _head_gateway_prefix(node: Node) -> str:
    if node.role == HEAD_ROLE:
        return node.gateway_prefix
    head = node.sandbox.nodes.live().filter(role=HEAD_ROLE).order_by("index").first()
    return head.gateway_prefix if head is not None else ""


def node_healthcheck(role: Role) -> HealthCheck | None:
    check = role.healthcheck
    if check is None:
        return None
    # A role with no service to probe is ready when the engine says so: keep its pace.
    calm = HEALTHCHECK_CALM_INTERVAL_S if role.services else check.interval_s
    return HealthCheck(
        test=list(check.test),
        interval_s=max(check.interval_s, calm),
        timeout_s=check.timeout_s,
        retries=check.retries,
        start_period_s=check.start_period_s,
        start_interval_s=check.interval_s,  # the manifest's pace, while the node starts
    )


def node_labels(node: Node) -> dict[str, str]:
    return {
        f"{LABEL_PREFIX}.sandbox": str(node.sandbox_id),
        f"{LABEL_PREFIX}.node": str(node.pk),
        f"{LABEL_PREFIX}.tenant": node.sandbox.tenant.slug,
    }


def sandbox_labels(sandbox: Sandbox) -> dict[str, str]:
    """Labels of the sandbox's network and volumes."""
    return {f"{LABEL_PREFIX}.sandbox": str(sandbox.pk), f"{LABEL_PREFIX}.tenant": sandbox.tenant.slug}


def workspace_mount(sandbox: Sandbox, manifest: Manifest) -> Mount:
    """The sandbox's own volume, shared by its nodes on one host, where the image wants it."""
    return Mount(source=sandbox.workspace_volume, target=manifest.workspace)


def datatap_mounts(sandbox: Sandbox, *, tap_sources: Mapping[int, str]) -> list[Mount]:
    """Each DataTap at /data/<name>: a hostpath bound in place from its checked source, an NFS
    export through the sandbox's own volume on the node's host; read-only where the DataTap is."""
    return [
        Mount(
            source=tap_sources[tap.pk] if tap.kind == DataTap.Kind.HOSTPATH else sandbox.datatap_volume(tap),
            target=tap.mount_target,
            kind="bind" if tap.kind == DataTap.Kind.HOSTPATH else "volume",
            read_only=tap.read_only,
        )
        for tap in sandbox.datataps.order_by("name")
    ]


def nfs_volume_options(datatap: DataTap) -> dict[str, str]:
    """The Docker `local` volume driver options that mount the export on a host."""
    options = [f"addr={datatap.server}"]
    if datatap.read_only:
        options.append("ro")
    if datatap.options:
        options.append(datatap.options)
    return {"type": "nfs", "o": ",".join(options), "device": f":{datatap.export}"}


def sandbox_tap_volumes(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    """The engine volumes the sandbox needs on each host it runs on, by name: its NFS DataTaps."""
    return {
        sandbox.datatap_volume(tap): nfs_volume_options(tap)
        for tap in sandbox.datataps.all()
        if tap.kind == DataTap.Kind.NFS
    }
