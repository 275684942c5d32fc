"""The warm pool: ready, hardened, tenant-less nodes each host keeps per catalog item and flavor,
so that a launch claims one instead of starting a container.

- `pool_set`: site admins say how many nodes of an item and flavor each host keeps.
- `pool_claim`: in the create's transaction, a one-node launch a pooled node can serve takes one
  (a row lock and a conditional update: never handed out twice). From then on the node counts
  against the tenant's quota (the create reserved it, as a cold launch does); before, it counted
  only against its host (placement sees pooled nodes as used room). A launch whose tenant's
  services give its nodes environment at creation (tracking's MLFLOW_TRACKING_URI) declines:
  a miss, counted under that reason.
- `pool_node_adopt`: the launch's worker joins the claimed container to the sandbox's network
  under the node's hostname, leaves the pool's own network, renames it to the node's name,
  writes the sandbox's secrets into it and sets up SSH as the image's entrypoint would have
  (authorized key, private key, the variables of SSH sessions). The pool's network, left empty,
  is removed by the pool's next pass, not on the launch's path (the engine takes 0.2 s to remove
  a network, a third of an adoption). Labels cannot change: the
  container keeps its pool label, and the reconciler knows it by its name, as every node. Its
  workspace volume became the sandbox's at the claim (`Sandbox.pooled_workspace`), so deleting
  the sandbox removes it.
- `pool_maintain`: per host, replaces pooled nodes that were lost (removed by hand, stopped by
  an engine restart: a lost node is never claimable again), promotes those that answer to
  ready once their Jupyter is warmed (provisioning.services.jupyter_warmup), shrinks and
  refills each pool to its size (not while a claim on the host is fresh), cleans up after
  claims whose sandbox was deleted before its worker adopted the node, and removes the networks
  adopted nodes left (the claim asks for this pass).

A pooled node holds nothing of a tenant before its claim: its labels, environment and secrets
are its own (pool_node_spec), its workspace is empty and made for it, and its network is its
own, so pooled nodes never reach one another. What a claimed node does not get: the container's
own environment (fixed at its start) keeps the pooled node's, so JupyterLab and its kernels and
terminals lack SANDBOX_ID and SANDBOX_NAME and see the pooled node's SANDBOX_NODE; SSH sessions
(~/.ssh/environment) and jobs (their own environment) have the sandbox's. Pools yield to the
launch queue: no refill while launches wait for room (their pooled nodes are removed to make
it), and no claim either."""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone
from kombu.exceptions import OperationalError

from catalog.manifest import JUPYTER_SERVICE
from catalog.models import CatalogItem, Flavor
from provisioning.containers import pool_node_labels, pool_node_spec
from provisioning.drivers import ContainerDriver, ContainerState, DriverError, NodeSpec, driver_for_host
from provisioning.drivers.base import SECRETS_DIR
from provisioning.errors import InvalidRequest
from provisioning.extensions import sandbox_extensions
from provisioning.models import Host, Node, PoolNode, PoolSetting, Sandbox
from provisioning.naming import made_for_pool
from provisioning.placement import NodeRequest, PlacementError, place
from provisioning.pool_selectors import pool_objects_kept, pool_role
from provisioning.services import worker_locks
from provisioning.services.admission import queue_admit_soon
from provisioning.services.capacity import hosts_snapshot
from provisioning.services.jupyter_warmup import jupyter_warm_up
from provisioning.services.readiness import services_answer
from provisioning.services.worker_locks import worker_lock
from provisioning.states import (
    NODE_FINAL,
    POOL_NODE_TRANSITIONS,
    HostState,
    PoolNodeStatus,
    SandboxStatus,
)
from tenants.services.audit import audit_record

log = logging.getLogger(__name__)

#: The most nodes of one item and flavor a host may keep warm.
POOL_MAX_SIZE = 64
#: While a pooled node starts, the pool's task looks at it about this often.
POOL_LOOK_AGAIN_S = 0.5
#: The miss of a launch the pool could serve that found no ready pooled node on a host it may use.
POOL_MISS_NONE_READY = "none_ready"

P = PoolNodeStatus


def pool_set(*, actor, catalog_item: str, flavor: str, size: int, ip: str | None = None) -> PoolSetting:
    """Keep `size` ready nodes of the item and flavor on each host that may run it (0: none)."""
    errors: dict[str, list[str]] = {}
    item = CatalogItem.objects.filter(slug=catalog_item).first()
    flavor_obj = Flavor.objects.filter(name=flavor).first()
    if item is None:
        errors["catalog_item"] = [f"No catalog item {catalog_item!r}."]
    elif pool_role(item) is None:
        errors["catalog_item"] = [
            f"Catalog item {catalog_item!r} has several roles: only one-node sandboxes come from a pool."
        ]
    if flavor_obj is None:
        errors["flavor"] = [f"No flavor {flavor!r}."]
    elif flavor_obj.gpus:
        errors["flavor"] = [f"Flavor {flavor!r} has GPUs: pooled nodes hold none."]
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= POOL_MAX_SIZE:
        errors["size"] = [f"A whole number from 0 to {POOL_MAX_SIZE}."]
    if errors:
        raise InvalidRequest(errors)
    with transaction.atomic():
        setting, _made = PoolSetting.objects.select_for_update().get_or_create(
            catalog_item=item, flavor=flavor_obj
        )
        was = setting.size
        setting.size = size
        setting.save(update_fields=["size", "updated"])
        audit_record(
            actor=actor,
            action="pool.set",
            target=setting,
            ip=ip,
            detail={"catalog_item": item.slug, "flavor": flavor_obj.name, "size": size, "was": was},
        )
        pools_maintain_soon()
    return setting


def pool_default_ensure() -> PoolSetting | None:
    """The site's first pool (settings.DEFAULT_POOL, e.g. "jupyter-pytorch=1": that many nodes of
    the item's default flavor on each host), once the item is in the catalog and unless a pool
    of it was ever set: a newcomer sees a warm launch, a site admin's choice stays."""
    slug, _, size = settings.DEFAULT_POOL.partition("=")
    item = CatalogItem.objects.filter(slug=slug, enabled=True).select_related("default_flavor").first()
    if item is None or PoolSetting.objects.filter(catalog_item=item, flavor=item.default_flavor).exists():
        return None
    return pool_set(actor=None, catalog_item=slug, flavor=item.default_flavor.name, size=int(size or 1))


def pool_claim(*, sandbox: Sandbox, nodes: list[Node]) -> bool:
    """Give the launch's only node a ready pooled node of its item and flavor on a host its
    labels allow (True), or leave it to placement (False). Call inside the create's transaction,
    after its quota is reserved: the node's host is the pooled node's, whose room it takes over."""
    if len(nodes) != 1 or sandbox.gpus_per_node or sandbox.datataps.exists():
        return False  # DataTaps are mounted at creation, GPUs assigned to it: the cold path
    setting = (
        PoolSetting.objects.filter(catalog_item=sandbox.catalog_item, flavor=sandbox.flavor, size__gt=0)
        .only("pk")
        .first()
    )
    if setting is None or Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists():
        return False
    refusal = next((r for e in sandbox_extensions() if (r := e.pool_refusal(sandbox=sandbox))), "")
    if refusal:
        _pool_miss(setting, refusal)  # e.g. its tenant's tracking: environment only a cold start gives
        return False
    (node,) = nodes
    pool_node = (
        PoolNode.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            setting=setting,
            status__in=POOL_NODE_TRANSITIONS["claim"].allowed_from,
            role=node.role,
            host__state=HostState.READY,
            host__labels__contains=sandbox.host_labels,
        )
        .order_by("ready_at", "pk")
        .first()
    )
    if pool_node is None or not _pool_node_move(pool_node, "claim", node=node, claimed_at=timezone.now()):
        _pool_miss(setting, POOL_MISS_NONE_READY)
        return False
    PoolSetting.objects.filter(pk=setting.pk).update(hits=F("hits") + 1)
    node.host_id = pool_node.host_id
    node.gateway_key = pool_node.gateway_key  # the key its Jupyter's base URL was started with
    node.gpu_uuids = []
    node.save(update_fields=["host", "gateway_key", "gpu_uuids"])
    # A one-node sandbox's service token is its node's, known since the pooled node started.
    sandbox.secret = pool_node.secret
    sandbox.pooled_workspace = pool_node.workspace_volume
    sandbox.save(update_fields=["secret", "pooled_workspace", "updated"])
    # Refill in the background, once the claimer's JupyterLab had the host (_pools_resize).
    pools_maintain_soon(host_id=pool_node.host_id, after_s=settings.POOL_REFILL_AFTER_S)
    return True


def _pool_miss(setting: PoolSetting, reason: str) -> None:
    """Count a launch the pool did not serve, in all and under its reason, in one statement (the
    row stays locked by it until the create commits, as concurrent claims' counts need)."""
    PoolSetting.objects.filter(pk=setting.pk).update(
        misses=F("misses") + 1,
        miss_reasons=RawSQL(
            "jsonb_set(miss_reasons, %s, to_jsonb(COALESCE((miss_reasons ->> %s)::bigint, 0) + 1))",
            ([reason], reason),
        ),
    )


def pool_node_adopt(*, node: Node, spec: NodeSpec, driver: ContainerDriver) -> ContainerState | None:
    """Make the pooled node the launch claimed for `node` into that node, as `spec` describes it
    (the sandbox's network, name and secrets); None when `node` came from no pooled node, or
    is already its container. Each step is skipped where done, so a retry after a crash
    completes it. A pooled node found gone is replaced by the pool, and the node starts cold."""
    pool_node = PoolNode.objects.filter(node=node, status=P.CLAIMED).first()
    if pool_node is None:
        return None
    if not driver.poll(name=spec.name).exists:
        state = driver.poll(name=pool_node.container_name)
        if not state.running:
            _pool_node_objects_remove(pool_node, driver, workspace=False)  # the sandbox's now
            _pool_node_move(
                pool_node,
                "adopt",
                failed=True,
                explanation="Gone before its launch adopted it; the launch started a node cold.",
            )
            return None
        driver.network_join(
            name=pool_node.container_name,
            network=spec.network,
            alias=spec.hostname,
            leave=pool_node.network_name,
        )
        driver.rename(name=pool_node.container_name, new_name=spec.name)
    else:  # renamed by an attempt that stopped there
        driver.network_join(
            name=spec.name, network=spec.network, alias=spec.hostname, leave=pool_node.network_name
        )
    driver.put_secret_files(name=spec.name, files=spec.secret_files, owner=spec.user)
    _pool_node_settle(spec, driver)
    # The pool's network, now empty, goes with the pool's next pass (_pool_networks_left_remove).
    _pool_node_move(pool_node, "adopt")
    return driver.poll(name=spec.name)


#: What the image's entrypoint does once, at a node's start, from its environment and secrets
#: (catalog/layers/runtime/sandbox-entrypoint: start_sshd, write_ssh_environment), done again in
#: an adopted node with the node's environment: the sandbox's key in ~/.ssh/authorized_keys, its
#: private key as ~/.ssh/id_ed25519, and the variables SSH sessions get (SANDBOX_ID, SANDBOX_NAME,
#: the node's name) in ~/.ssh/environment, which sshd reads at every login. The same filter as
#: the entrypoint's, so the files are what a node started cold would have. Idempotent.
_SETTLE_SSH = r"""set -euo pipefail
secrets=$1
umask 077
mkdir -p "$HOME/.ssh"
if [ -n "${SANDBOX_SSH_AUTHORIZED_KEY:-}" ]; then
    printf '%s\n' "$SANDBOX_SSH_AUTHORIZED_KEY" > "$HOME/.ssh/authorized_keys.new"
    mv "$HOME/.ssh/authorized_keys.new" "$HOME/.ssh/authorized_keys"
fi
if [ -s "$secrets/ssh_private_key" ]; then
    printf '%s\n' "$(cat "$secrets/ssh_private_key")" > "$HOME/.ssh/id_ed25519.new"
    mv "$HOME/.ssh/id_ed25519.new" "$HOME/.ssh/id_ed25519"
fi
while IFS= read -r -d '' entry; do
    case "${entry%%=*}" in
        HOME|HOSTNAME|PWD|OLDPWD|SHLVL|_|TERM|JUPYTER_TOKEN|SANDBOX_SSH_*) continue ;;
    esac
    [[ $entry == *$'\n'* ]] || printf '%s\n' "$entry"
done < <(env -0) > "$HOME/.ssh/environment.new"
mv "$HOME/.ssh/environment.new" "$HOME/.ssh/environment"
"""


def _pool_node_settle(spec: NodeSpec, driver: ContainerDriver) -> None:
    """Give the adopted node what its image reads from the environment at start only: run with
    the node's environment (a command's variables override the container's), as its user."""
    done = driver.exec_start(
        name=spec.name,
        command=["bash", "-c", _SETTLE_SSH, "settle", SECRETS_DIR],
        environment=spec.environment,
        user=spec.user,
    )
    if done.exit_code != 0:
        raise DriverError(f"setting up SSH in {spec.name} failed: {done.output.strip()[-300:]}")


def pool_maintain(*, host_id: int) -> bool:
    """One pass over a host's pools; True while a pooled node is still starting (look again)."""
    with worker_lock(worker_locks.POOL, host_id) as acquired:
        if not acquired:
            return True  # another worker is on this host; look again once it is done
        host = Host.objects.filter(pk=host_id).first()
        if host is None or host.state in (HostState.UNREACHABLE, HostState.PENDING):
            return False  # its nodes are looked at when it answers again
        try:
            driver = driver_for_host(host, timeout=10)
            _pool_nodes_check(host, driver)
            _pool_claims_abandoned_remove(host, driver)
            _pool_networks_left_remove(host, driver)
            _pools_resize(host, driver)
        except DriverError as exc:
            log.warning("pool of host %s: %s", host.name, exc)
            return False
        return PoolNode.objects.filter(host=host, status=P.STARTING).exists()


def pools_maintain_soon(*, host_id: int | None = None, after_s: float = 0) -> None:
    """Ask a worker for a pool pass on one host (or every host) once the transaction commits,
    `after_s` seconds later."""

    def send() -> None:
        from provisioning.tasks import pool_maintain as task

        host_ids = [host_id] if host_id else list(Host.objects.values_list("pk", flat=True))
        try:
            for pk in host_ids:
                task.apply_async((pk,), countdown=after_s or None)
        except OperationalError as exc:
            log.warning("broker down, the pools wait for beat's next pass: %s", exc)

    transaction.on_commit(send)


def _pool_node_move(
    pool_node: PoolNode, action: str, *, failed: bool = False, through: bool = False, **changes
) -> bool:
    """One conditional update along the transition table (to where the action ends, fails, or
    `through` the state it passes); False when another worker (a claim, a loss) moved the node
    first."""
    transition = POOL_NODE_TRANSITIONS[action]
    to = transition.fails if failed else transition.through if through else transition.ends
    moved = PoolNode.objects.filter(pk=pool_node.pk, status__in=transition.allowed_from).update(
        status=to, **changes
    )
    if moved:
        pool_node.status = to
        for name, value in changes.items():
            setattr(pool_node, name, value)
    return bool(moved)


def _pool_nodes_check(host: Host, driver: ContainerDriver) -> None:
    """Promote pooled nodes that answer; mark lost (and remove) those whose container vanished,
    stopped, failed its healthcheck or never answered in time."""
    deadline = timezone.now() - timedelta(seconds=settings.NODE_READY_TIMEOUT_S)
    for pool_node in PoolNode.objects.filter(
        host=host, status__in=[P.STARTING, P.READY, P.LOST]
    ).select_related("setting__catalog_item"):
        state = driver.poll(name=pool_node.container_name)
        if pool_node.status != P.LOST:
            why = _pool_node_trouble(pool_node, state, deadline=deadline)
            if not why:
                if pool_node.status == P.STARTING and _pool_node_answers(pool_node, driver, state):
                    _pool_node_warm_up(pool_node, driver, state)
                    _pool_node_move(pool_node, "ready", ready_at=timezone.now())
                continue
            if not _pool_node_move(pool_node, "lose", through=True, explanation=why):
                continue  # claimed meanwhile: its launch's worker sees it gone and starts cold
            log.warning("pooled node %s on %s lost: %s", pool_node.pk, host.name, why)
        _pool_node_objects_remove(pool_node, driver)
        PoolNode.objects.filter(pk=pool_node.pk, status=P.LOST).update(
            status=POOL_NODE_TRANSITIONS["lose"].ends
        )


def _pool_node_trouble(pool_node: PoolNode, state: ContainerState, *, deadline) -> str:
    if not state.exists:
        return "Its container is gone (removed by hand, or the engine lost it)."
    if not state.running:
        return f"Its container stopped (exit code {state.exit_code}); an engine restart does that."
    if state.health == "unhealthy":
        return "It failed its healthcheck."
    if pool_node.status == P.STARTING and pool_node.created < deadline:
        return f"It did not answer within {settings.NODE_READY_TIMEOUT_S} seconds."
    return ""


def _pool_node_answers(pool_node: PoolNode, driver: ContainerDriver, state: ContainerState) -> bool:
    """Ready as a node is (provisioning.services.readiness): its services answer a probe where
    the worker reaches the engine's addresses, else the engine's healthcheck passed."""
    if state.health == "healthy":
        return True
    services = pool_node.setting.catalog_item.spec.roles[pool_node.role].services
    if driver.reaches_node_addresses and services and state.ip:
        return services_answer(ip=state.ip, services=services) is True
    return state.health == "none" and not services


def _pool_node_warm_up(pool_node: PoolNode, driver: ContainerDriver, state: ContainerState) -> None:
    """What its Jupyter builds on first asking, built before anyone claims it
    (provisioning.services.jupyter_warmup), where the worker reaches it."""
    services = pool_node.setting.catalog_item.spec.roles[pool_node.role].services
    jupyter = next((s for s in services if s.name == JUPYTER_SERVICE and s.protocol == "http"), None)
    if jupyter is None or not (driver.reaches_node_addresses and state.ip):
        return
    jupyter_warm_up(
        ip=state.ip,
        port=jupyter.port,
        base_url=f"{pool_node.gateway_prefix}{JUPYTER_SERVICE}/",
        token=pool_node.secret,
    )


def _pool_claims_abandoned_remove(host: Host, driver: ContainerDriver) -> None:
    """A claimed node whose sandbox was deleted (or whose create failed) before its worker
    adopted it is still the pool's container on the pool's network: remove them. Its workspace
    was the sandbox's, removed with it."""
    for pool_node in PoolNode.objects.filter(host=host, status=P.CLAIMED).select_related("node"):
        if pool_node.node is not None and pool_node.node.status not in NODE_FINAL:
            continue
        _pool_node_objects_remove(pool_node, driver, workspace=False)
        _pool_node_move(pool_node, "remove", explanation="Its launch went before adopting it.")


def _pool_networks_left_remove(host: Host, driver: ContainerDriver) -> None:
    """The networks of pooled nodes that launches adopted: each node left its network at the
    adoption, which left the removal to this pass. Listed before the rows are read, as the
    reconciler lists, so a network made after the listing is never taken for a leftover."""
    networks = [name for name in driver.list_managed_networks() if made_for_pool(name)]
    kept = pool_objects_kept(host=host, sandbox_ids=set())
    for name in networks:
        if name not in kept:
            driver.remove_network(name=name)


def _pools_resize(host: Host, driver: ContainerDriver) -> None:
    """Each pool to its size on this host: the newest (starting first) go when it is too big; new
    ones start when it is too small and the host has room. While launches wait in the queue, the
    pools give their room back to them: a pooled node idles, a queued launch is someone's work."""
    queued = Sandbox.objects.filter(status=SandboxStatus.QUEUED).exists()
    # Not while a claim is fresh: starting a pooled node (its Jupyter boots for seconds of a
    # core) would compete with the claimer's first JupyterLab load, and with the engine calls
    # that hand the claimed node over (a burst claims many). The claim asked for a pass then.
    fresh_claim = PoolNode.objects.filter(
        host=host, claimed_at__gt=timezone.now() - timedelta(seconds=settings.POOL_REFILL_AFTER_S)
    ).exists()
    freed = False
    for setting in PoolSetting.objects.select_related("catalog_item", "flavor"):
        role = pool_role(setting.catalog_item)
        in_service = host.state == HostState.READY and setting.catalog_item.enabled and role
        wanted = setting.size if in_service and not queued else 0
        if wanted and any(host.labels.get(k) != v for k, v in setting.catalog_item.spec.host_labels.items()):
            wanted = 0
        live = list(
            PoolNode.objects.filter(host=host, setting=setting, status__in=[P.STARTING, P.READY]).order_by(
                "-status", "-created"
            )  # starting before ready, newest first
        )
        for pool_node in live[wanted:]:
            if _pool_node_move(pool_node, "remove", explanation="The pool was made smaller."):
                _pool_node_objects_remove(pool_node, driver)
                freed = True
        for _ in range(0 if fresh_claim else wanted - len(live)):
            pool_node = _pool_node_add(host, setting, role)
            if pool_node is None:
                break  # the host is full
            try:
                _pool_node_start(pool_node, driver)
            except DriverError as exc:
                _pool_node_move(pool_node, "lose", explanation=str(exc))  # a retry starts a new one
                _pool_node_objects_remove(pool_node, driver)
                raise
    if freed and queued:
        queue_admit_soon()


def _pool_node_add(host: Host, setting: PoolSetting, role: str) -> PoolNode | None:
    """A pooled node's row, placed on `host` with the hosts' rows locked as a launch's placement
    locks them (so the two never hand out the same room); None when the host has no room."""
    flavor = setting.flavor
    with transaction.atomic():
        try:
            place(
                nodes=[NodeRequest(key="pool", cpus=Decimal(flavor.cpus), memory_mib=flavor.memory_mib)],
                hosts=hosts_snapshot(lock=True, host_ids=[host.pk]),
                overcommit=Decimal(settings.CPU_OVERCOMMIT),
                labels=setting.catalog_item.spec.host_labels,
                may_spread=False,
            )
        except PlacementError:
            return None
        return PoolNode.objects.create(
            setting=setting, host=host, role=role, cpus=flavor.cpus, memory_mib=flavor.memory_mib
        )


def _pool_node_start(pool_node: PoolNode, driver: ContainerDriver) -> None:
    labels = pool_node_labels(pool_node)
    driver.ensure_network(name=pool_node.network_name, labels=labels)
    driver.ensure_volume(
        name=pool_node.workspace_volume, labels=labels, size_gib=pool_node.setting.flavor.disk_gib
    )
    driver.start(pool_node_spec(pool_node))


def _pool_node_objects_remove(
    pool_node: PoolNode, driver: ContainerDriver, *, workspace: bool = True
) -> None:
    driver.remove(name=pool_node.container_name)
    driver.remove_network(name=pool_node.network_name)
    if workspace:
        driver.remove_volume(name=pool_node.workspace_volume)
