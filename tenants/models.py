from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from tenants.querysets import TenantScopedQuerySet

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lowercase letters, digits and inner hyphens.",
)


class User(AbstractUser):
    """A person or automation account. Site admin is a global flag, separate from Django's
    superuser so that the Django admin site can stay closed to site admins if need be."""

    is_site_admin = models.BooleanField(default=False)


class TenantQuerySet(TenantScopedQuerySet):
    tenant_path = "pk"


class Tenant(models.Model):
    slug = models.CharField(max_length=50, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quota_cpus = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("8"), validators=[MinValueValidator(0)]
    )
    quota_memory_mib = models.PositiveIntegerField(default=32768)
    quota_gpus = models.PositiveIntegerField(default=0)
    quota_storage_gib = models.PositiveIntegerField(default=100)
    quota_sandboxes = models.PositiveIntegerField(default=10)
    notebook_idle_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Stop a sandbox whose notebook had no activity for this long; empty: never",
    )
    share = models.PositiveIntegerField(
        default=1,
        help_text="Fair-share weight: with twice the share, a tenant may use twice as much of a full "
        "site before its queued launches wait behind others'",
    )
    tracking = models.BooleanField(
        default=False, help_text="Wanted: the tenant runs an MLflow tracking server (tracking/)"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Tenant admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class Allocation(models.Model):
    """One interval during which something (a node, a volume, a sandbox slot) holds part of a
    tenant's quota. Live while `ended` is empty. Usage is the sum of live allocations, and the
    closed ones are the accounting record: both come from these rows, so they cannot disagree."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="allocations")
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=200, help_text="What holds it, e.g. sandbox/12/node/3")
    group = models.CharField(max_length=100, db_index=True, help_text="e.g. sandbox/12")
    attributes = models.JSONField(default=dict, blank=True, help_text="For reports, e.g. catalog_item")
    cpus = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    memory_mib = models.PositiveIntegerField(default=0)
    gpus = models.PositiveIntegerField(default=0)
    storage_gib = models.PositiveIntegerField(default=0)
    sandboxes = models.PositiveIntegerField(default=0)
    started = models.DateTimeField()
    ended = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["started", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=models.Q(ended__isnull=True),
                name="one_live_allocation_per_subject",
            )
        ]
        # (tenant, ended): live usage; (tenant, started) and (started): usage reports by period.
        indexes = [
            models.Index(fields=["tenant", "ended"]),
            models.Index(fields=["tenant", "started"]),
            models.Index(fields=["started"]),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.tenant})"


class Token(models.Model):
    """A personal API token. A user may hold several, each named for what uses it. Only a hash of
    the key is stored; the prefix finds the row without scanning every hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEventImmutable(Exception):
    pass


class AuditEventQuerySet(TenantScopedQuerySet):
    def update(self, **kwargs):
        raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    """Who did what to which object, when, from where and with what result. Append-only: the
    model refuses updates and deletes, and a database trigger refuses them for raw SQL too."""

    class Result(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        DENIED = "denied", "Denied"

    # PROTECT, not SET_NULL: nulling the column would be an update, which the trigger refuses.
    # Users and tenants with a history are deactivated rather than deleted.
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.result}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventImmutable("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit events are append-only: they cannot be deleted.")


class IdempotencyRecord(models.Model):
    """The first answer to a create sent with an `Idempotency-Key` header, so that a client
    retrying after a timeout gets that answer again instead of a second object. Keys are scoped
    per user (the unique constraint is also what stops two concurrent duplicates both creating)
    and kept for a day; `fingerprint` tells a retry from a different request reusing the key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
