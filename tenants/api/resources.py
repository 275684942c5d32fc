from decimal import Decimal

from rest_framework import serializers


class ResourcesSerializer(serializers.Serializer):
    """A quota or a usage: the five dimensions, numbers in JSON (cpus is decimal cores)."""

    cpus = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal("0"), coerce_to_string=False
    )
    memory_mib = serializers.IntegerField(min_value=0)
    gpus = serializers.IntegerField(min_value=0)
    storage_gib = serializers.IntegerField(min_value=0)
    sandboxes = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "Resources"
