from rest_framework import serializers

from catalog.models import CatalogItem, Flavor, ImageBuild


class FlavorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flavor
        fields = ["name", "description", "cpus", "memory_mib", "gpus", "disk_gib"]


class CatalogItemOutputSerializer(serializers.ModelSerializer):
    default_flavor = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    image = serializers.CharField(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = CatalogItem
        fields = [
            "slug",
            "name",
            "version",
            "description",
            "category",
            "icon",
            "gpu_capable",
            "default_flavor",
            "image",
            "enabled",
            "roles",
            "manifest",
            "created",
            "updated",
        ]

    def get_roles(self, item) -> dict:
        """Per role: node-count bounds and the services it exposes, the launcher's summary."""
        return {
            name: {
                "min_nodes": role.min_nodes,
                "max_nodes": role.max_nodes,
                "default_nodes": role.default_nodes,
                "services": [service.name for service in role.services],
            }
            for name, role in item.spec.roles.items()
        }


class ImageBuildOutputSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    catalog_item = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    # The model says explanation, like every model; API clients keep the key they know.
    error = serializers.CharField(source="explanation", read_only=True)

    class Meta:
        model = ImageBuild
        fields = [
            "id",
            "slug",
            "version",
            "status",
            "error",
            "log",
            "requested_by",
            "catalog_item",
            "created",
            "finished",
        ]
