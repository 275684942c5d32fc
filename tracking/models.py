import secrets

from django.conf import settings
from django.db import models

from provisioning.models import Host
from tenants.models import Tenant
from tenants.querysets import TenantScopedQuerySet
from tracking.states import TrackingStatus


def _new_password() -> str:
    return secrets.token_urlsafe(32)


class TrackingServerQuerySet(TenantScopedQuerySet):
    tenant_path = "tenant"


class TrackingServer(models.Model):
    """A tenant's MLflow tracking server and model registry: one container on `host`, its backend
    store a PostgreSQL database of its own, its artifacts on a volume whose size the tenant's
    `storage_gib` holds. The row lives as long as its data (database and volume): disabling
    removes the container only; `tracking_server_purge` removes the rest and the row.

    Every Docker and PostgreSQL name derives from the tenant's id (tracking.naming), so a worker
    that died midway is adopted by the next one."""

    Status = TrackingStatus

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="tracking_server")
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.STARTING)
    explanation = models.TextField(blank=True)
    storage_gib = models.PositiveIntegerField(help_text="Size of the artifact volume, held against the quota")
    username = models.CharField(max_length=50, default="portal")
    password = models.CharField(max_length=64, default=_new_password, help_text="MLflow's basic-auth account")
    db_password = models.CharField(max_length=64, default=_new_password, help_text="The PostgreSQL role's")
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="On its own network, for the gateway")
    started = models.DateTimeField(null=True, blank=True, help_text="When the current start began")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = TrackingServerQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__slug"]

    def __str__(self) -> str:
        return f"tracking server of {self.tenant}"

    @property
    def name(self) -> str:
        return f"{settings.SITE}-trk{self.tenant_id}"
