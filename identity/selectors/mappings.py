"""Which groups grant what: the mappings site admins keep (GroupMapping rows) and those that
come with the deployment (settings.PORTAL_GROUP_MAPPINGS), read as one list."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import Lower

from identity.models import GroupMapping
from tenants.models import Tenant


@dataclass(frozen=True)
class Grant:
    """One mapping as a login applies it. `tenant` is None when the tenant it names is gone."""

    group: str
    grant: str
    tenant_slug: str
    tenant: Tenant | None
    source: str  # "portal" (UI / API) or "settings"
    mapping_id: int | None = None

    @property
    def grant_label(self) -> str:
        return GroupMapping.Grant(self.grant).label


def _settings_grants() -> list[Grant]:
    entries = settings.PORTAL_GROUP_MAPPINGS
    tenants = Tenant.objects.in_bulk(
        [entry["tenant"] for entry in entries if "tenant" in entry], field_name="slug"
    )
    grants = []
    for entry in entries:
        if entry.get("site_admin"):
            grants.append(Grant(entry["group"], GroupMapping.Grant.SITE_ADMIN, "", None, "settings"))
        else:
            slug = entry["tenant"]
            role = entry.get("role", GroupMapping.Grant.MEMBER)
            grants.append(Grant(entry["group"], role, slug, tenants.get(slug), "settings"))
    return grants


def _row_grant(mapping: GroupMapping) -> Grant:
    return Grant(
        mapping.group, mapping.grant, mapping.tenant_slug, mapping.tenant, "portal", mapping_id=mapping.pk
    )


def group_mapping_list():
    """The mappings kept in the portal, for the UI and API."""
    return GroupMapping.objects.select_related("tenant")


def grants_for_groups(*, groups: set[str]) -> list[Grant]:
    """Every mapping whose group is one of `groups` (names and DNs compare case-insensitively)."""
    wanted = {group.lower() for group in groups}
    rows = (
        GroupMapping.objects.select_related("tenant")
        .annotate(group_lower=Lower("group"))
        .filter(group_lower__in=wanted)
    )
    from_settings = [grant for grant in _settings_grants() if grant.group.lower() in wanted]
    return [*map(_row_grant, rows), *from_settings]


def grants_for_tenant(*, tenant: Tenant) -> list[Grant]:
    """Which groups grant a role in `tenant`, for its page."""
    rows = GroupMapping.objects.select_related("tenant").filter(tenant=tenant)
    from_settings = [grant for grant in _settings_grants() if grant.tenant_slug == tenant.slug]
    return sorted(
        [*map(_row_grant, rows), *from_settings], key=lambda grant: (grant.group.lower(), grant.grant)
    )
