"""Writes of flavors (site admins only; the views check who asks)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import ProtectedError

from catalog.models import Flavor
from common.errors import Conflict
from tenants.models import User
from tenants.services.audit import audit_record

FLAVOR_FIELDS = ("description", "cpus", "memory_mib", "gpus", "disk_gib")


class FlavorInUse(Conflict):
    """Something still refers to the flavor, so it cannot be deleted."""

    code = "in_use"


@transaction.atomic
def flavor_create(
    *,
    name: str,
    cpus: Decimal,
    memory_mib: int,
    gpus: int = 0,
    disk_gib: int = 10,
    description: str = "",
    actor: User,
    ip: str | None = None,
) -> Flavor:
    flavor = Flavor.objects.create(
        name=name, cpus=cpus, memory_mib=memory_mib, gpus=gpus, disk_gib=disk_gib, description=description
    )
    audit_record(actor=actor, action="flavor.create", target=flavor, ip=ip, detail=_sizes(flavor))
    return flavor


@transaction.atomic
def flavor_update(*, flavor: Flavor, actor: User, ip: str | None = None, **changes) -> Flavor:
    """Change the given fields (a subset of FLAVOR_FIELDS); the name is its API key and stays."""
    unknown = set(changes) - set(FLAVOR_FIELDS)
    if unknown:
        raise TypeError(f"flavor_update() cannot change {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(flavor, field, value)
    flavor.save(update_fields=list(changes))
    audit_record(actor=actor, action="flavor.update", target=flavor, ip=ip, detail=_sizes(flavor))
    return flavor


@transaction.atomic
def flavor_delete(*, flavor: Flavor, actor: User, ip: str | None = None) -> None:
    name = flavor.name
    try:
        flavor.delete()
    except ProtectedError as exc:
        raise FlavorInUse(f"flavor {name!r} is still used and cannot be deleted") from exc
    audit_record(actor=actor, action="flavor.delete", ip=ip, object_type="catalog.flavor", object_repr=name)


def _sizes(flavor: Flavor) -> dict:
    return {
        "cpus": str(flavor.cpus),
        "memory_mib": flavor.memory_mib,
        "gpus": flavor.gpus,
        "disk_gib": flavor.disk_gib,
    }
