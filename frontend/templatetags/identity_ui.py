"""Template tags of sign-in and user management that other pages embed."""

from django import template

from identity.selectors.mappings import grants_for_tenant

register = template.Library()


@register.inclusion_tag("frontend/users/_tenant_group_grants.html")
def tenant_group_grants(tenant):
    """Which directory or single sign-on groups grant a role in `tenant`; for the tenant's page,
    in the part its admins see: `{% load identity_ui %}{% tenant_group_grants tenant %}`."""
    return {"group_grants": grants_for_tenant(tenant=tenant)}
