from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning.models import Host, Node, Operation, OperationPhase, Sandbox
from provisioning.queue_selectors import queue_standing_of, queue_standings
from provisioning.selectors import (
    operation_phases,
    sandbox_actions,
    sandbox_endpoints,
    sandbox_live_nodes,
)
from provisioning.states import SandboxAction, SandboxStatus


class NodeOutput(serializers.ModelSerializer):
    host = serializers.CharField(source="host.name", default=None)
    gpus = serializers.ListField(source="gpu_uuids", child=serializers.CharField())
    name = serializers.CharField(source="hostname")
    # Every model says explanation; API clients keep the key they know.
    status_detail = serializers.CharField(source="explanation", read_only=True)

    class Meta:
        model = Node
        fields = [
            "name",
            "role",
            "index",
            "host",
            "ip",
            "status",
            "status_detail",
            "cpus",
            "memory_mib",
            "gpus",
        ]


class EndpointOutput(serializers.Serializer):
    service = serializers.CharField()
    node = serializers.CharField()
    url = serializers.CharField()
    main = serializers.BooleanField()


class QueueOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="1: the next launch admitted when a host has room")
    length = serializers.IntegerField(help_text="Launches queued on the site")
    factor = serializers.FloatField(help_text="The tenant's fair-share factor, 2^(-usage/share)")
    reason = serializers.CharField()
    estimated_wait_s = serializers.FloatField(
        allow_null=True,
        help_text="Rough guess from lifetimes of finished sandboxes of this size; null: unknown",
    )


class SandboxOutput(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    catalog_item = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    flavor = serializers.SlugRelatedField(slug_field="name", read_only=True)
    nodes = serializers.SerializerMethodField()
    endpoints = serializers.SerializerMethodField()
    datataps = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    status_detail = serializers.CharField(source="explanation", read_only=True)
    actions = serializers.SerializerMethodField(
        help_text="What the caller may ask of the sandbox now, by its state and the caller's rights"
    )
    queue = serializers.SerializerMethodField()

    class Meta:
        model = Sandbox
        fields = [
            "id",
            "name",
            "tenant",
            "owner",
            "catalog_item",
            "flavor",
            "gpus_per_node",
            "status",
            "status_detail",
            "actions",
            "nodes",
            "endpoints",
            "datataps",
            "host_labels",
            "preemptible",
            "preemption",
            "queue",
            "created",
            "updated",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=[a for a in SandboxAction if a != SandboxAction.CREATE])
        )
    )
    def get_actions(self, sandbox) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return sandbox_actions(user=request.user, sandbox=sandbox)

    def get_nodes(self, sandbox) -> list[dict]:
        return NodeOutput(sandbox_live_nodes(sandbox=sandbox), many=True).data

    def get_endpoints(self, sandbox) -> list[dict]:
        return EndpointOutput(sandbox_endpoints(sandbox=sandbox), many=True).data

    @extend_schema_field(QueueOutput(allow_null=True))
    def get_queue(self, sandbox) -> dict | None:
        """While queued: where it stands. The queue is read once per response, not per sandbox."""
        if sandbox.status != SandboxStatus.QUEUED:
            return None
        if "queue_standings" not in self.context:
            self.context["queue_standings"] = queue_standings()
        standing = queue_standing_of(sandbox=sandbox, standings=self.context["queue_standings"])
        return None if standing is None else QueueOutput(standing).data


class SandboxCreateInput(serializers.Serializer):
    tenant = serializers.SlugField()
    name = serializers.RegexField(
        r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
        max_length=50,
        error_messages={"invalid": "Use 1 to 50 lowercase letters, digits and inner hyphens."},
    )
    catalog_item = serializers.SlugField()
    flavor = serializers.SlugField()
    nodes = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=1000), required=False)
    datataps = serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, default=list, max_length=50
    )
    gpus_per_node = serializers.IntegerField(min_value=0, max_value=16, default=0)
    host_labels = serializers.DictField(
        child=serializers.CharField(max_length=63), required=False, default=dict
    )
    preemptible = serializers.BooleanField(
        default=False,
        help_text="May be stopped (never deleted) to make room for a tenant under its fair share",
    )


class SandboxResizeInput(serializers.Serializer):
    nodes = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=1000))
    force = serializers.BooleanField(
        default=False, help_text="Cancel the jobs that run on nodes the resize removes, instead of refusing."
    )


class OperationPhaseOutput(serializers.Serializer):
    phase = serializers.ChoiceField(choices=OperationPhase.choices)
    label = serializers.CharField()
    at = serializers.DateTimeField()
    took_s = serializers.FloatField(help_text="Seconds since the milestone before it")


class OperationOutput(serializers.ModelSerializer):
    sandbox = serializers.PrimaryKeyRelatedField(read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    phases = serializers.SerializerMethodField()

    class Meta:
        model = Operation
        fields = [
            "id",
            "sandbox",
            "kind",
            "status",
            "progress",
            "phases",
            "explanation",
            "requested_by",
            "attempts",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = fields

    @extend_schema_field(OperationPhaseOutput(many=True))
    def get_phases(self, operation) -> list[dict]:
        """The milestones it passed (queued, placed, network, started, ready), in order."""
        return OperationPhaseOutput(operation_phases(operation=operation), many=True).data

    def get_progress(self, operation) -> dict:
        return {
            "done": operation.progress_done,
            "total": operation.progress_total,
            "message": operation.progress_message,
        }


class HostOutput(serializers.ModelSerializer):
    last_error = serializers.CharField(source="explanation", read_only=True)

    class Meta:
        model = Host
        fields = [
            "id",
            "name",
            "url",
            "state",
            "labels",
            "cpus",
            "memory_mib",
            "gpus",
            "engine_version",
            "last_seen",
            "last_error",
            "created",
        ]
        read_only_fields = fields


class HostCreateInput(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    url = serializers.RegexField(
        r"^(unix|tcp)://\S+$", error_messages={"invalid": "Use unix:///path or tcp://host:port."}
    )
    labels = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    tls_ca_cert = serializers.CharField(required=False, allow_blank=True, default="")
    tls_client_cert = serializers.CharField(required=False, allow_blank=True, default="")
    tls_client_key = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)
