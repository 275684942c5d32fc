import re

from django.conf import settings
from django.db import models

from catalog.models import Flavor
from provisioning.models import Host
from serving.states import ENDPOINT_FINAL, REPLICA_LIVE, EndpointStatus, ReplicaStatus
from tenants.models import SLUG_VALIDATOR, Tenant
from tenants.querysets import TenantScopedQuerySet


def endpoint_prefix(endpoint_id: int) -> str:
    """Every Docker object of an endpoint is named from this, so retries find them."""
    return f"{settings.SITE}-ep{endpoint_id}"


class EndpointQuerySet(TenantScopedQuerySet):
    tenant_path = "tenant"

    def live(self):
        return self.exclude(status__in=ENDPOINT_FINAL)


class Endpoint(models.Model):
    """A registered model version served by replicas behind the gateway at a stable URL."""

    class Protocol(models.TextChoices):
        OPEN_INFERENCE = "open-inference-v2", "Open Inference Protocol (V2), as MLServer and KServe speak it"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="endpoints")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="endpoints")
    name = models.CharField(max_length=63, validators=[SLUG_VALIDATOR])
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=50, help_text="The version every replica should serve")
    flavor = models.ForeignKey(Flavor, on_delete=models.PROTECT, related_name="+")
    min_replicas = models.PositiveIntegerField(default=1)
    max_replicas = models.PositiveIntegerField(default=1)
    # Between min and max: what the scaler decided from the measured request rate.
    desired_replicas = models.PositiveIntegerField(default=1)
    protocol = models.CharField(max_length=30, choices=Protocol.choices, default=Protocol.OPEN_INFERENCE)
    status = models.CharField(max_length=20, choices=EndpointStatus.choices, default=EndpointStatus.PENDING)
    explanation = models.TextField(blank=True, help_text="Why a deploy failed or was rolled back")
    # Requests per second through the gateway, as last measured from the replicas' counters.
    request_rate = models.FloatField(default=0)
    last_request = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                condition=~models.Q(status=EndpointStatus.DELETED),
                name="unique_live_endpoint_name_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant}/{self.name}"

    @property
    def resource_prefix(self) -> str:
        return endpoint_prefix(self.pk)

    @property
    def network_name(self) -> str:
        return f"{self.resource_prefix}-net"

    @property
    def ledger_group(self) -> str:
        return f"endpoint/{self.pk}"

    @property
    def path(self) -> str:
        """Its stable path on the gateway."""
        return f"/endpoints/{self.tenant.slug}/{self.name}/"

    @property
    def upstream_name(self) -> str:
        """The nginx upstream group of its ready replicas."""
        return f"{settings.SITE}_endpoint_{self.pk}"

    @property
    def served_model_name(self) -> str:
        """The name the Open Inference Protocol serves it under: /v2/models/<this>/infer."""
        return re.sub(r"[^A-Za-z0-9_.-]", "-", self.model_name)


class ReplicaQuerySet(TenantScopedQuerySet):
    tenant_path = "endpoint__tenant"

    def live(self):
        return self.filter(status__in=REPLICA_LIVE)


class Replica(models.Model):
    """One container of the model server, serving one model version."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="replicas")
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="replicas")
    model_version = models.CharField(max_length=50)
    cpus = models.DecimalField(max_digits=6, decimal_places=2)
    memory_mib = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=ReplicaStatus.choices, default=ReplicaStatus.PENDING)
    explanation = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The replica's request counters as last scraped, to turn them into per-endpoint deltas.
    counters = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ReplicaQuerySet.as_manager()

    class Meta:
        ordering = ["endpoint", "pk"]

    def __str__(self) -> str:
        return f"{self.endpoint}/replica-{self.pk}"

    @property
    def container_name(self) -> str:
        return f"{self.endpoint.resource_prefix}-r{self.pk}"

    @property
    def ledger_subject(self) -> str:
        return f"endpoint/{self.endpoint_id}/replica/{self.pk}"


class EndpointKeyQuerySet(TenantScopedQuerySet):
    tenant_path = "endpoint__tenant"


class EndpointKey(models.Model):
    """A key that lets an application call one endpoint. As API tokens: shown once, stored as
    its SHA-256 with a prefix to find the row, revoked rather than deleted."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    objects = EndpointKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class EndpointTraffic(models.Model):
    """Requests an endpoint served, summed over its replicas (they restart; this does not): what
    /metrics exports and the endpoint's page charts. `buckets` counts requests by latency
    upper bound (seconds, as strings, cumulative like Prometheus's)."""

    endpoint = models.OneToOneField(Endpoint, on_delete=models.CASCADE, related_name="traffic")
    requests = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    latency_sum_s = models.FloatField(default=0)
    buckets = models.JSONField(default=dict, blank=True)
    # Recent (time, requests per second) points for the page's live chart, newest last.
    history = models.JSONField(default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"traffic of {self.endpoint_id}"


class EndpointInputStats(models.Model):
    """The two sides of an endpoint's drift signal (serving.drift compares them): its recent
    inference inputs, merged over its replicas' windows by the serving reconciler, and the
    training data's statistics its model carries. Summaries map a feature's name to its stats
    (serving.input_stats)."""

    endpoint = models.OneToOneField(Endpoint, on_delete=models.CASCADE, related_name="input_stats")
    # rows, mean, std, min, max per feature; kept while no replica has seen a request (scaled
    # to zero, just restarted), so the page goes on showing what was last seen.
    window = models.JSONField(default=dict, blank=True)
    window_updated = models.DateTimeField(null=True, blank=True)
    # count, mean, std, min, max per feature, of the model version below.
    training = models.JSONField(default=dict, blank=True)
    # The model version the training statistics were read from; empty until a replica was read.
    training_version = models.CharField(max_length=50, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"input statistics of {self.endpoint_id}"
