from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from serving.drift import DriftVerdict
from serving.models import Endpoint, EndpointKey, Replica
from serving.selectors import endpoint_drift


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


class TrainingStatsOutput(serializers.Serializer):
    """As pandas describe() gave them when the model was logged; a stat it lacked is left out."""

    count = serializers.FloatField(required=False)
    mean = serializers.FloatField()
    std = serializers.FloatField(required=False, help_text="Sample standard deviation (ddof 1)")
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)


class RecentStatsOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    mean = serializers.FloatField()
    std = serializers.FloatField(help_text="Standard deviation over the rows (ddof 0)")
    min = serializers.FloatField()
    max = serializers.FloatField()


class FeatureDriftOutput(serializers.Serializer):
    name = serializers.CharField()
    training = TrainingStatsOutput(allow_null=True, help_text="null: not in the training statistics")
    recent = RecentStatsOutput(allow_null=True, help_text="null: no recent request carried it")
    score = serializers.FloatField(
        allow_null=True,
        help_text="|recent mean - training mean| / training std; null when a side or the training std "
        "is missing, or that std is 0 and the means differ (then drifted)",
    )
    drifted = serializers.BooleanField(help_text="score above the threshold")


class EndpointDriftOutput(serializers.Serializer):
    """The recent inference inputs (the last rows each replica saw, merged over the replicas)
    against the training data the model was logged with
    (metadata={"training_stats": X.describe().to_dict()})."""

    verdict = serializers.ChoiceField(choices=DriftVerdict.choices)
    summary = serializers.CharField(help_text="The verdict in a sentence")
    threshold = serializers.FloatField(help_text="In training standard deviations")
    rows = serializers.IntegerField(help_text="Rows in the recent window")
    drifted_features = serializers.IntegerField(source="drifted_count")
    as_of = serializers.DateTimeField(allow_null=True, help_text="When the window last changed")
    training_version = serializers.CharField(help_text="The model version the training statistics are of")
    features = FeatureDriftOutput(many=True)


class ModelEndpointOutput(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    flavor = serializers.SlugRelatedField(slug_field="name", read_only=True)
    model = serializers.SerializerMethodField()
    replicas = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    status_detail = serializers.CharField(source="explanation", read_only=True)
    drift = serializers.SerializerMethodField()

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
            "drift",
            "created",
            "updated",
        ]

    def get_model(self, endpoint) -> dict:
        return {"name": endpoint.model_name, "version": endpoint.model_version}

    @extend_schema_field(EndpointDriftOutput)
    def get_drift(self, endpoint) -> dict:
        return EndpointDriftOutput(endpoint_drift(endpoint=endpoint)).data

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
