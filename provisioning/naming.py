"""Names of the Docker objects a sandbox owns. They derive from the site and the sandbox id, so
a retry finds what an earlier attempt made and two sites sharing an engine never collide."""

from django.conf import settings


def sandbox_prefix(sandbox_id: int) -> str:
    return f"{settings.SITE}-sbx{sandbox_id}"


def sandbox_id_from_name(name: str) -> int | None:
    """portal-sbx12-net -> 12; names this site did not make give None."""
    head = f"{settings.SITE}-sbx"
    if not name.startswith(head):
        return None
    digits = name[len(head) :].split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


def pool_prefix(pool_node_id: int) -> str:
    """A pooled node's objects: never mistaken for a sandbox's (sandbox_id_from_name gives None)."""
    return f"{settings.SITE}-pool{pool_node_id}"


def made_for_pool(name: str) -> bool:
    """A pooled node's network, volume or container name."""
    return name.startswith(f"{settings.SITE}-pool")


def made_by_this_site(name: str) -> bool:
    """A sandbox's or a pooled node's network, volume or container name (not a tenant service's)."""
    return sandbox_id_from_name(name) is not None or made_for_pool(name)
