"""/api/v1/group-mappings/: which directory or token groups grant a tenant role or site admin."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.api.pagination import PAGINATION_CLASS, paginated_response
from common.client_ip import client_ip
from identity.models import GroupMapping
from identity.selectors.mappings import group_mapping_list
from identity.services.mappings import group_mapping_create, group_mapping_delete
from tenants.api.permissions import IsSiteAdmin
from tenants.models import Tenant


class GroupMappingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.CharField()
    grant = serializers.ChoiceField(choices=GroupMapping.Grant.choices)
    tenant = serializers.CharField(source="tenant_slug", allow_null=True, help_text="Empty for site admin")
    tenant_exists = serializers.SerializerMethodField()
    created = serializers.DateTimeField()

    class Meta:
        ref_name = "GroupMapping"

    def get_tenant_exists(self, mapping) -> bool:
        """False when the tenant was deleted: logins then ignore the mapping."""
        return mapping.tenant_id is not None or not mapping.tenant_slug


class GroupMappingListApi(APIView):
    permission_classes = [IsSiteAdmin]
    pagination_class = PAGINATION_CLASS

    class InputSerializer(serializers.Serializer):
        group = serializers.CharField(max_length=255)
        grant = serializers.ChoiceField(choices=GroupMapping.Grant.choices)
        tenant = serializers.SlugRelatedField(
            slug_field="slug", queryset=Tenant.objects.all(), required=False, allow_null=True, default=None
        )

        class Meta:
            ref_name = "GroupMappingCreate"

    @extend_schema(responses=GroupMappingOutputSerializer(many=True))
    def get(self, request):
        return paginated_response(
            queryset=group_mapping_list(),
            serializer_class=GroupMappingOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(request=InputSerializer, responses={201: GroupMappingOutputSerializer})
    @api_create
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mapping = group_mapping_create(actor=request.user, ip=client_ip(request), **serializer.validated_data)
        return Response(GroupMappingOutputSerializer(mapping).data, status=status.HTTP_201_CREATED)


class GroupMappingDetailApi(APIView):
    permission_classes = [IsSiteAdmin]

    @extend_schema(responses=GroupMappingOutputSerializer)
    def get(self, request, pk):
        return Response(GroupMappingOutputSerializer(get_object_or_404(group_mapping_list(), pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        mapping = get_object_or_404(group_mapping_list(), pk=pk)
        group_mapping_delete(actor=request.user, mapping=mapping, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
