import secrets

from django.conf import settings
from django.db import models

from catalog.models import CatalogItem, Flavor
from provisioning.naming import pool_prefix, sandbox_prefix
from provisioning.sshkeys import ssh_private_key_new
from provisioning.states import (
    JOB_ACTIVE,
    NODE_FINAL,
    NODE_RELEASED,
    OPERATION_ACTIVE,
    OPERATION_FINAL,
    SANDBOX_FINAL,
    HostState,
    JobStatus,
    NodeStatus,
    OperationStatus,
    PoolNodeStatus,
    SandboxAction,
    SandboxStatus,
)
from tenants.models import SLUG_VALIDATOR, Tenant
from tenants.querysets import TenantScopedQuerySet


class Host(models.Model):
    """A Docker engine the platform places nodes on."""

    State = HostState

    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=300, help_text="unix:///var/run/docker.sock or tcp://host:2376")
    tls_ca_cert = models.TextField(blank=True)
    tls_client_cert = models.TextField(blank=True)
    tls_client_key = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.READY)
    labels = models.JSONField(default=dict, blank=True)
    cpus = models.PositiveIntegerField(default=0)
    memory_mib = models.PositiveBigIntegerField(default=0)
    gpus = models.JSONField(
        default=list, blank=True, help_text="NVML inventory: index, uuid, model, memory_mib"
    )
    engine_version = models.CharField(max_length=50, blank=True)
    # The engine's own ID (`docker info`): whatever URL names it, one engine is one host, or two
    # reconcilers would each take the other's containers for orphans.
    engine_id = models.CharField(max_length=100, blank=True)
    # Engines of one Docker swarm share this key (from their managers' ids); a sandbox may span
    # them on an attachable overlay network, created through a manager.
    swarm = models.CharField(max_length=64, blank=True)
    swarm_manager = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)
    explanation = models.TextField(blank=True, help_text="Why the engine did not answer, in plain language")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engine_id"], condition=~models.Q(engine_id=""), name="host_engine_registered_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class HostPathPrefix(models.Model):
    """A host directory tree that site admins allow hostpath DataTaps to lie under."""

    path = models.CharField(max_length=500, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class DataTapQuerySet(TenantScopedQuerySet):
    tenant_path = "tenant"


class DataTap(models.Model):
    """A tenant's shared data, mounted in place at /data/<name> on every node that asks for it."""

    class Kind(models.TextChoices):
        HOSTPATH = "hostpath", "A directory present on every host, bind-mounted"
        NFS = "nfs", "An NFS export, mounted by each host's engine as a local volume"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="datataps")
    name = models.CharField(max_length=63, validators=[SLUG_VALIDATOR])
    kind = models.CharField(max_length=20, choices=Kind.choices)
    path = models.CharField(max_length=500, blank=True, help_text="hostpath: the directory on every host")
    server = models.CharField(max_length=253, blank=True, help_text="nfs: host name or IP address")
    export = models.CharField(max_length=500, blank=True, help_text="nfs: the exported path")
    options = models.CharField(max_length=300, blank=True, help_text="nfs: extra mount options")
    read_only = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = DataTapQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="unique_datatap_name_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.tenant}/{self.name}"

    @property
    def mount_target(self) -> str:
        return f"/data/{self.name}"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _new_gateway_key() -> str:
    return secrets.token_urlsafe(16)


def _new_ssh_private_key() -> str:
    return ssh_private_key_new()


class SandboxQuerySet(TenantScopedQuerySet):
    tenant_path = "tenant"

    def live(self):
        """Not deleted: the sandboxes that hold, or will hold, something."""
        return self.exclude(status__in=SANDBOX_FINAL)


class Sandbox(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="sandboxes")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sandboxes")
    name = models.CharField(max_length=63, validators=[SLUG_VALIDATOR])
    catalog_item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="sandboxes")
    flavor = models.ForeignKey(Flavor, on_delete=models.PROTECT, related_name="+")
    gpus_per_node = models.PositiveIntegerField(default=0)
    # Labels every host of the sandbox must carry: the catalog item's and the user's, merged.
    host_labels = models.JSONField(default=dict, blank=True)
    # Set when its nodes span the hosts of this swarm on an overlay network; empty: one host,
    # on a bridge network of that host's engine.
    swarm = models.CharField(max_length=64, blank=True)
    secret = models.CharField(
        max_length=64, default=_new_secret, help_text="Token of the sandbox's own services"
    )
    # Passwordless SSH among the sandbox's nodes; never shown, gone with the row's containers.
    ssh_private_key = models.TextField(default=_new_ssh_private_key, editable=False)
    status = models.CharField(max_length=20, choices=SandboxStatus.choices, default=SandboxStatus.PENDING)
    explanation = models.TextField(blank=True, help_text="Plain-language reason for error or unknown")
    # Mounted on every node; datatap_delete refuses while a live sandbox names the DataTap.
    datataps = models.ManyToManyField(DataTap, blank=True, related_name="sandboxes")
    # May be stopped (never deleted) to make room for a tenant under its fair share.
    preemptible = models.BooleanField(default=False)
    preemption = models.TextField(
        blank=True, help_text="Why the queue stopped it to make room, until started again"
    )
    # When it last joined the launch queue: first come within a tenant, and its maximum wait.
    queued_at = models.DateTimeField(null=True, blank=True)
    # The workspace volume of the pooled node it claimed (engine volumes cannot be renamed);
    # empty: its own, named from its id.
    pooled_workspace = models.CharField(max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = SandboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                condition=~models.Q(status=SandboxStatus.DELETED),
                name="unique_live_sandbox_name_per_tenant",
            )
        ]
        indexes = [
            models.Index(fields=["queued_at"], condition=models.Q(status="queued"), name="sandbox_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant}/{self.name}"

    @property
    def resource_prefix(self) -> str:
        """Every Docker object of the sandbox is named from this, so retries find them."""
        return sandbox_prefix(self.pk)

    @property
    def network_name(self) -> str:
        return f"{self.resource_prefix}-net"

    @property
    def workspace_volume(self) -> str:
        return self.pooled_workspace or f"{self.resource_prefix}-workspace"

    @property
    def ledger_group(self) -> str:
        return f"sandbox/{self.pk}"

    def datatap_volume(self, datatap: "DataTap") -> str:
        """The engine volume that mounts an NFS DataTap for this sandbox on one host."""
        return f"{self.resource_prefix}-tap-{datatap.name}"


class NodeQuerySet(TenantScopedQuerySet):
    tenant_path = "sandbox__tenant"

    def live(self):
        """Not removed: the nodes that have a container, or will have one."""
        return self.exclude(status__in=NODE_FINAL)

    def holding(self):
        """The nodes whose cpus, memory and GPUs count on their host."""
        return self.exclude(status__in=NODE_RELEASED)


class Node(models.Model):
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="nodes")
    role = models.CharField(max_length=50)
    index = models.PositiveIntegerField()
    host = models.ForeignKey(Host, null=True, blank=True, on_delete=models.PROTECT, related_name="nodes")
    cpus = models.DecimalField(max_digits=6, decimal_places=2)
    memory_mib = models.PositiveIntegerField()
    gpu_uuids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=NodeStatus.choices, default=NodeStatus.PENDING)
    explanation = models.TextField(blank=True)
    container_id = models.CharField(max_length=80, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The node's part of its gateway URLs (/gateway/<key>/<service>/): random, so a URL tells
    # nothing of the sandbox and cannot be guessed, and fixed for the node's life, so its
    # services (Jupyter's base_url) can be started with it before the node belongs to anyone.
    gateway_key = models.CharField(max_length=32, unique=True, default=_new_gateway_key, editable=False)
    # Last request through the gateway, at most GATEWAY_ACTIVITY_EVERY_S old: the notebook idle stop.
    gateway_activity = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = NodeQuerySet.as_manager()

    class Meta:
        ordering = ["sandbox", "role", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["sandbox", "role", "index"],
                condition=~models.Q(status=NodeStatus.DELETED),
                name="unique_live_node_name",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sandbox}/{self.hostname}"

    @property
    def hostname(self) -> str:
        """How the other nodes of the sandbox reach it, e.g. worker-1."""
        return f"{self.role}-{self.index}"

    @property
    def container_name(self) -> str:
        return f"{self.sandbox.resource_prefix}-{self.hostname}"

    @property
    def gateway_prefix(self) -> str:
        """The path under which the gateway serves the node's services: <prefix><service>/."""
        return f"/gateway/{self.gateway_key}/"

    @property
    def ledger_subject(self) -> str:
        return f"sandbox/{self.sandbox_id}/node/{self.pk}"


class OperationQuerySet(TenantScopedQuerySet):
    tenant_path = "sandbox__tenant"

    def active(self):
        return self.filter(status__in=OPERATION_ACTIVE)

    def finished(self):
        return self.filter(status__in=OPERATION_FINAL)


class OperationPhase(models.TextChoices):
    """Milestones an operation passes, each recorded once with its time (`Operation.phases`), so
    that a slow launch says where its time went. Stop and delete pass only `queued`."""

    QUEUED = "queued", "Recorded, waiting for a worker"
    PLACED = "placed", "A worker took it, every node on a host"
    NETWORK = "network", "Network and volumes ready"
    STARTED = "started", "Containers started"
    READY = "ready", "Every node answers"


class Operation(models.Model):
    #: An operation carries out the sandbox action of the same name.
    Kind = SandboxAction
    Phase = OperationPhase

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=OperationStatus.choices, default=OperationStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    explanation = models.TextField(blank=True, help_text="Why it failed, in plain language")
    params = models.JSONField(default=dict, blank=True, help_text="e.g. the nodes a resize removes")
    attempts = models.PositiveIntegerField(default=0)
    phases = models.JSONField(
        default=list, blank=True, help_text='Milestones passed, in order: [{"phase": ..., "at": ISO time}]'
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            # One worker acts on a sandbox at a time.
            models.UniqueConstraint(
                fields=["sandbox"],
                condition=models.Q(status__in=sorted(OPERATION_ACTIVE)),
                name="one_active_operation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sandbox} ({self.status})"


class JobQuerySet(TenantScopedQuerySet):
    tenant_path = "sandbox__tenant"

    def active(self):
        return self.filter(status__in=JOB_ACTIVE)


class Job(models.Model):
    """A command run across some or all of a sandbox's nodes, one process per node."""

    class Kind(models.TextChoices):
        COMMAND = "command", "A user's command"
        VALIDATION = "validation", "The image's validation job"

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMAND)
    command = models.TextField()
    target = models.CharField(max_length=50, help_text='"all", "head" or a role: where it runs')
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    explanation = models.TextField(blank=True, help_text="Why it failed, in plain language")
    result = models.JSONField(
        null=True, blank=True, help_text="What a validation job measured (rank 0's result line)"
    )
    master_port = models.PositiveIntegerField(help_text="MASTER_PORT of this job's rendezvous")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_requested = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"job {self.pk} of {self.sandbox} ({self.status})"

    @property
    def workdir(self) -> str:
        """Where each node keeps the job's command, log, pid and exit code: inside the sandbox's
        own containers, where every process is the sandbox's user's, in a folder every image has."""
        return f"/tmp/sandbox-jobs/{self.pk}"  # noqa: S108 - not the portal's /tmp


class JobNodeQuerySet(TenantScopedQuerySet):
    tenant_path = "job__sandbox__tenant"


class JobNode(models.Model):
    """The job's process on one node: its rank, its exit code and the log it printed."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="nodes")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    exit_code = models.IntegerField(null=True, blank=True)
    explanation = models.CharField(max_length=300, blank=True, help_text="How it ended when not by exiting")
    exec_id = models.CharField(max_length=100, blank=True, help_text="The engine's id of the launch")
    launched = models.DateTimeField(null=True, blank=True)
    # The log's tail is kept here; log_dropped counts the characters before it that were let go,
    # so positions in the whole output stay stable for incremental reads.
    log = models.TextField(blank=True)
    log_dropped = models.PositiveBigIntegerField(default=0)
    log_read_bytes = models.PositiveBigIntegerField(
        default=0, help_text="How far the node's log file was read"
    )

    objects = JobNodeQuerySet.as_manager()

    class Meta:
        ordering = ["job", "rank"]
        constraints = [models.UniqueConstraint(fields=["job", "node"], name="one_job_process_per_node")]

    def __str__(self) -> str:
        return f"{self.job} on {self.node.hostname}"


class PoolSetting(models.Model):
    """How many ready, tenant-less nodes of a catalog item and flavor each host keeps."""

    catalog_item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="+")
    flavor = models.ForeignKey(Flavor, on_delete=models.CASCADE, related_name="+")
    size = models.PositiveIntegerField(default=0, help_text="Ready nodes kept on each host that may run it")
    # Launches of this item and flavor that claimed a pooled node, and those that did not though
    # a pool of it exists (counted in the create's transaction), in all and per reason:
    # POOL_MISS_NONE_READY, or what a tenant service refused (SandboxExtension.pool_refusal).
    hits = models.PositiveBigIntegerField(default=0)
    misses = models.PositiveBigIntegerField(default=0)
    miss_reasons = models.JSONField(default=dict, blank=True, help_text="reason -> misses")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["catalog_item__slug", "flavor__name"]
        constraints = [
            models.UniqueConstraint(fields=["catalog_item", "flavor"], name="one_pool_per_item_and_flavor")
        ]

    def __str__(self) -> str:
        return f"pool {self.catalog_item.slug}/{self.flavor.name} x{self.size}"


class PoolNode(models.Model):
    """A pooled node: a container of the pool's item and flavor, started before any sandbox
    exists, with its own Jupyter token and gateway key; a launch's node takes both over when it
    claims it. Its Docker objects are named from its id (labels cannot change, names can: the
    container is renamed to the node's name when a sandbox adopts it)."""

    Status = PoolNodeStatus

    setting = models.ForeignKey(PoolSetting, on_delete=models.PROTECT, related_name="nodes")
    # A host is deleted once drained (the pool pass removes its pooled nodes then): these rows go.
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="pool_nodes")
    role = models.CharField(max_length=50)
    cpus = models.DecimalField(max_digits=6, decimal_places=2)
    memory_mib = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=PoolNodeStatus.choices, default=PoolNodeStatus.STARTING)
    explanation = models.TextField(blank=True)
    secret = models.CharField(max_length=64, default=_new_secret, help_text="Token of its Jupyter")
    gateway_key = models.CharField(max_length=32, unique=True, default=_new_gateway_key, editable=False)
    node = models.OneToOneField(
        Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="pooled_from"
    )
    created = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        indexes = [models.Index(fields=["setting", "status"], name="pool_node_claimable")]

    def __str__(self) -> str:
        return f"{self.setting} #{self.pk} on {self.host} ({self.status})"

    @property
    def resource_prefix(self) -> str:
        return pool_prefix(self.pk)

    @property
    def container_name(self) -> str:
        return self.resource_prefix

    @property
    def network_name(self) -> str:
        """Its own network until a claim: pooled nodes never reach one another."""
        return f"{self.resource_prefix}-net"

    @property
    def workspace_volume(self) -> str:
        return f"{self.resource_prefix}-workspace"

    @property
    def hostname(self) -> str:
        return f"{self.role}-0"

    @property
    def gateway_prefix(self) -> str:
        return f"/gateway/{self.gateway_key}/"
