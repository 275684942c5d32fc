from django.db import models

from tenants.models import Membership, Tenant, User


class GroupMapping(models.Model):
    """A directory (LDAP) or OpenID token group that grants a role in a tenant, or site admin.

    The tenant's slug is kept beside the link so that a mapping whose tenant was deleted can still
    say which tenant it meant: such a mapping is ignored at login, with a warning."""

    class Grant(models.TextChoices):
        MEMBER = Membership.Role.MEMBER.value, "Member"
        ADMIN = Membership.Role.ADMIN.value, "Tenant admin"
        SITE_ADMIN = "site_admin", "Site admin"

    group = models.CharField(max_length=255, help_text="Group name or DN, as the directory or token names it")
    grant = models.CharField(max_length=20, choices=Grant.choices)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="group_mappings"
    )
    tenant_slug = models.CharField(max_length=50, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "tenant_slug", "grant"]
        constraints = [
            models.UniqueConstraint(fields=["group", "tenant_slug"], name="one_mapping_per_group_and_tenant"),
        ]

    def __str__(self) -> str:
        if self.grant == self.Grant.SITE_ADMIN:
            return f"{self.group} → site admin"
        return f"{self.group} → {self.tenant_slug} ({self.grant})"


class ExternalIdentity(models.Model):
    """Binds a portal user to one account of an identity provider: an OpenID provider's `sub`
    (never a matching email alone) or a directory's user name. A login through that provider
    finds its user only through this row."""

    class Provider(models.TextChoices):
        LDAP = "ldap", "LDAP directory"
        OIDC = "oidc", "OpenID Connect"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    issuer = models.CharField(max_length=500, help_text="The OpenID issuer, or the directory's URL")
    subject = models.CharField(max_length=255, help_text="`sub`, or the directory's user name")
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "issuer", "subject"], name="one_user_per_external_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject} → {self.user}"


class MappedMembership(models.Model):
    """Marks a membership as granted by group mappings, so that a later login may change or
    withdraw it; memberships without this mark were added by hand and logins leave them alone."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="mapped")
    groups = models.JSONField(default=list, help_text="The groups that granted it at the last login")

    def __str__(self) -> str:
        return f"{self.membership} via {', '.join(self.groups)}"


class Account(models.Model):
    """What identity keeps about a user beyond the user row."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="account")
    must_change_password = models.BooleanField(
        default=False, help_text="Set with a temporary password; the user changes it at next login"
    )
    site_admin_from_groups = models.BooleanField(
        default=False, help_text="Site admin was granted by a group mapping, so a login may withdraw it"
    )
    deactivated_by_directory = models.BooleanField(
        default=False,
        help_text="Deactivated because the directory disabled or removed the account; a later "
        "successful directory login reactivates it (a site admin's deactivation stays)",
    )

    def __str__(self) -> str:
        return f"account of {self.user}"
