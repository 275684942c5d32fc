"""Reads of provisioning data for the UI and the API."""

from django.db.models import Prefetch, QuerySet

from provisioning.models import Node, NodeStatus, Sandbox, SandboxStatus


def sandbox_list(*, user) -> QuerySet[Sandbox]:
    return (
        Sandbox.objects.visible_to(user)
        .select_related("tenant", "owner", "catalog_item", "flavor")
        .prefetch_related(
            Prefetch("nodes", queryset=Node.objects.select_related("host").order_by("role", "index"))
        )
    )


def sandbox_endpoints(*, sandbox: Sandbox) -> list[dict]:
    """The services of running nodes, as the manifest declares them."""
    if sandbox.status != SandboxStatus.RUNNING:
        return []
    roles = sandbox.catalog_item.manifest["roles"]
    endpoints = []
    for node in sandbox.nodes.all():
        if node.status != NodeStatus.RUNNING or not node.ip:
            continue
        for service in roles.get(node.role, {}).get("services", []):
            scheme = "http" if service.get("protocol") == "http" else service.get("protocol", "tcp")
            url = f"{scheme}://{node.ip}:{service['port']}{service.get('path', '')}"
            endpoints.append(
                {
                    "service": service["name"],
                    "node": node.hostname,
                    "url": url,
                    "main": service.get("main", False),
                }
            )
    return endpoints
