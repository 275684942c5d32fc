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
        indexes = [models.Index(fields=["tenant", "ended"])]

    def __str__(self) -> str:
        return f"{self.subject} ({self.tenant})"
