from decimal import Decimal

import pytest

from catalog.models import Flavor
from catalog.services.flavors import flavor_create, flavor_delete, flavor_update
from tenants.models import AuditEvent


@pytest.mark.django_db
def test_the_four_flavors_are_seeded():
    sizes = {f.name: (f.cpus, f.memory_mib, f.gpus, f.disk_gib) for f in Flavor.objects.all()}

    assert sizes == {
        "small": (Decimal("1"), 2048, 0, 10),
        "medium": (Decimal("2"), 4096, 0, 20),
        "large": (Decimal("4"), 16384, 0, 50),
        "gpu": (Decimal("4"), 16384, 1, 50),
    }


@pytest.mark.django_db
def test_create_update_delete_are_audited(site_admin):
    flavor = flavor_create(name="tiny", cpus=Decimal("0.5"), memory_mib=512, actor=site_admin)
    flavor_update(flavor=flavor, memory_mib=768, actor=site_admin)
    flavor_delete(flavor=flavor, actor=site_admin)

    assert not Flavor.objects.filter(name="tiny").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="flavor.")
        .order_by("pk")
        .values_list("action", "object_repr")
    )
    assert actions == [("flavor.create", "tiny"), ("flavor.update", "tiny"), ("flavor.delete", "tiny")]


@pytest.mark.django_db
def test_update_refuses_to_rename(site_admin):
    with pytest.raises(TypeError, match="cannot change name"):
        flavor_update(flavor=Flavor.objects.get(name="small"), name="smaller", actor=site_admin)
