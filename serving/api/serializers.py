from django.conf import settings
from rest_framework import serializers

from serving.models import Endpoint, EndpointKey, Replica


class ModelRefInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=50)


class ReplicaBoundsInput(serializers.Serializer):
    min = serializers.IntegerField(min_value=0)
    max = serializers.IntegerField(min_value=1)


class ModelEndpointCreateInput(serializers.Serializer):
    tenant = serializers.SlugField()
    name = serializers.CharField(max_length=63)
    model = ModelRefInput()
    replicas = ReplicaBoundsInput(required=False)
    flavor = serializers.CharField(max_length=50)


class ModelEndpointUpdateInput(serializers.Serializer):
    model = serializers.DictField(required=False, help_text='{"version": ...}: roll to this version')
    replicas = serializers.DictField(required=False, help_text='{"min": ..., "max": ...}')


class ReplicaOutput(serializers.ModelSerializer):
    host = serializers.CharField(source="host.name")
    status_detail = serializers.CharField(source="explanation", read_only=True)

    class Meta:
        model = Replica
        fields = ["id", "host", "status", "status_detail", "model_version", "created"]


class ModelEndpointOutput(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    flavor = serializers.SlugRelatedField(slug_field="name", read_only=True)
    model = serializers.SerializerMethodField()
    replicas = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    status_detail = serializers.CharField(source="explanation", read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "tenant",
            "name",
            "owner",
            "model",
            "flavor",
            "status",
            "status_detail",
            "url",
            "protocol",
            "replicas",
            "request_rate",
            "created",
            "updated",
        ]

    def get_model(self, endpoint) -> dict:
        return {"name": endpoint.model_name, "version": endpoint.model_version}

    def get_url(self, endpoint) -> str:
        return f"{settings.GATEWAY_URL}{endpoint.path}"

    def get_replicas(self, endpoint) -> dict:
        live = getattr(endpoint, "live_replicas", None)
        if live is None:
            live = list(endpoint.replicas.exclude(status="deleted").select_related("host"))
        return {
            "min": endpoint.min_replicas,
            "max": endpoint.max_replicas,
            "desired": endpoint.desired_replicas,
            "items": ReplicaOutput(live, many=True).data,
        }


class EndpointKeyInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class EndpointKeyOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = EndpointKey
        fields = ["id", "name", "prefix", "created_by", "created", "last_used", "revoked"]


class EndpointKeyCreatedOutput(EndpointKeyOutput):
    key = serializers.CharField(help_text="Shown once: send it as Authorization: Bearer <key>")

    class Meta(EndpointKeyOutput.Meta):
        fields = [*EndpointKeyOutput.Meta.fields, "key"]
