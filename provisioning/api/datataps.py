"""DataTaps and the site's host path allowlist over the API. Another tenant's DataTap answers
404; a tenant member may look at the tenant's DataTaps, only its admins create and delete."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from provisioning.api.filters import DataTapFilter
from provisioning.models import DataTap, HostPathPrefix
from provisioning.selectors import datatap_list, hostpath_prefix_list
from provisioning.services.datataps import (
    datatap_create,
    datatap_delete,
    hostpath_prefix_add,
    hostpath_prefix_remove,
)
from tenants.api.permissions import IsSiteAdmin
from tenants.models import Tenant
from tenants.selectors.memberships import user_can_admin_tenant

NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$"


class DataTapOutput(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    mount_path = serializers.CharField(source="mount_target", read_only=True)
    sandboxes = serializers.SerializerMethodField(help_text="Sandboxes (not deleted) that mount it")

    class Meta:
        model = DataTap
        fields = [
            "id",
            "tenant",
            "name",
            "kind",
            "path",
            "server",
            "export",
            "options",
            "read_only",
            "mount_path",
            "sandboxes",
            "created_by",
            "created",
        ]
        read_only_fields = fields

    def get_sandboxes(self, datatap) -> list[str]:
        return [s.name for s in datatap.live_sandboxes]


class DataTapCreateInput(serializers.Serializer):
    tenant = serializers.SlugField()
    name = serializers.RegexField(
        NAME_PATTERN,
        max_length=50,
        error_messages={"invalid": "Use 1 to 50 lowercase letters, digits and inner hyphens."},
    )
    kind = serializers.ChoiceField(choices=DataTap.Kind.choices)
    path = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    server = serializers.CharField(required=False, allow_blank=True, default="", max_length=253)
    export = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    options = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    read_only = serializers.BooleanField(default=True)

    def validate(self, data):
        required = ["path"] if data["kind"] == DataTap.Kind.HOSTPATH else ["server", "export"]
        missing = {field: ["This field is required."] for field in required if not data.get(field)}
        if missing:
            raise serializers.ValidationError(missing)
        return data


def _datatap_for(request, pk: int) -> DataTap:
    return get_object_or_404(datatap_list(user=request.user), pk=pk)


def _require_admin(request, tenant: Tenant) -> None:
    if not user_can_admin_tenant(user=request.user, tenant=tenant):
        raise PermissionDenied("Only this tenant's admins and site admins manage its DataTaps.")


class DataTapListCreate(generics.ListAPIView):
    serializer_class = DataTapOutput
    filterset_class = DataTapFilter

    def get_queryset(self):
        return datatap_list(user=self.request.user)

    @extend_schema(request=DataTapCreateInput, responses={201: DataTapOutput})
    @api_create
    def post(self, request):
        data = DataTapCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        tenant = get_object_or_404(Tenant.objects.visible_to(request.user), slug=args.pop("tenant"))
        _require_admin(request, tenant)
        datatap = datatap_create(actor=request.user, tenant=tenant, ip=client_ip(request), **args)
        return Response(DataTapOutput(_datatap_for(request, datatap.pk)).data, status=status.HTTP_201_CREATED)


class DataTapDetail(APIView):
    @extend_schema(responses=DataTapOutput)
    def get(self, request, pk: int):
        return Response(DataTapOutput(_datatap_for(request, pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        datatap = _datatap_for(request, pk)
        _require_admin(request, datatap.tenant)
        datatap_delete(actor=request.user, datatap=datatap, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HostPathPrefixOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = HostPathPrefix
        fields = ["id", "path", "created_by", "created"]
        read_only_fields = fields


class HostPathPrefixInput(serializers.Serializer):
    path = serializers.CharField(max_length=500)


class HostPathPrefixListCreate(generics.ListAPIView):
    serializer_class = HostPathPrefixOutput
    permission_classes = [IsSiteAdmin]

    def get_queryset(self):
        return hostpath_prefix_list()

    @extend_schema(request=HostPathPrefixInput, responses={201: HostPathPrefixOutput})
    @api_create
    def post(self, request):
        data = HostPathPrefixInput(data=request.data)
        data.is_valid(raise_exception=True)
        prefix = hostpath_prefix_add(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(HostPathPrefixOutput(prefix).data, status=status.HTTP_201_CREATED)


class HostPathPrefixDetail(APIView):
    permission_classes = [IsSiteAdmin]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        prefix = get_object_or_404(hostpath_prefix_list(), pk=pk)
        hostpath_prefix_remove(actor=request.user, prefix=prefix, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
