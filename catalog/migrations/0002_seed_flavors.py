from decimal import Decimal

from django.db import migrations

# name: (cpus, memory_mib, gpus, disk_gib, description)
FLAVORS = {
    "small": (Decimal("1"), 2048, 0, 10, "1 CPU, 2 GiB: a notebook for light work"),
    "medium": (Decimal("2"), 4096, 0, 20, "2 CPUs, 4 GiB"),
    "large": (Decimal("4"), 16384, 0, 50, "4 CPUs, 16 GiB"),
    "gpu": (Decimal("4"), 16384, 1, 50, "4 CPUs, 16 GiB and one GPU"),
}


def seed(apps, schema_editor):
    Flavor = apps.get_model("catalog", "Flavor")
    for name, (cpus, memory_mib, gpus, disk_gib, description) in FLAVORS.items():
        Flavor.objects.get_or_create(
            name=name,
            defaults={
                "cpus": cpus,
                "memory_mib": memory_mib,
                "gpus": gpus,
                "disk_gib": disk_gib,
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
