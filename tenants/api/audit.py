from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from common.api.pagination import PAGINATION_CLASS, paginated_response
from tenants.filtersets import AuditEventFilterSet
from tenants.models import AuditEvent
from tenants.selectors.audit import audit_event_list


class AuditEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_username")
    tenant = serializers.CharField(source="tenant.slug", allow_null=True)
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    result = serializers.ChoiceField(choices=AuditEvent.Result.choices)
    detail = serializers.JSONField()
    ip = serializers.IPAddressField(allow_null=True)

    class Meta:
        ref_name = "AuditEvent"


class AuditListApi(APIView):
    """Read-only: the audit log has no write endpoint. Site admins read every event, tenant
    admins their tenants' events, members get 403."""

    pagination_class = PAGINATION_CLASS

    @extend_schema(
        responses=AuditEventOutputSerializer(many=True),
        parameters=[
            OpenApiParameter(name, str, description=str(field.label or ""))
            for name, field in AuditEventFilterSet.base_filters.items()
        ],
    )
    def get(self, request):
        return paginated_response(
            queryset=audit_event_list(user=request.user, filters=request.query_params),
            serializer_class=AuditEventOutputSerializer,
            request=request,
            view=self,
        )
