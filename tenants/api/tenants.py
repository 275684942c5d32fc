from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.api.pagination import PAGINATION_CLASS, paginated_response
from common.client_ip import client_ip
from tenants.api.permissions import IsSiteAdmin
from tenants.api.resources import ResourcesSerializer
from tenants.models import SLUG_VALIDATOR
from tenants.selectors.memberships import user_can_admin_tenant
from tenants.selectors.tenants import tenant_list
from tenants.selectors.usage import tenant_quota, tenant_usage
from tenants.services.notebook_limits import tenant_set_notebook_idle_limit
from tenants.services.shares import tenant_set_share
from tenants.services.tenants import tenant_create, tenant_update, tenant_update_quota


class TenantOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Tenant"

    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    quota = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    notebook_idle_minutes = serializers.IntegerField(allow_null=True)
    share = serializers.IntegerField(help_text="Fair-share weight in the launch queue (default 1)")
    tracking = serializers.BooleanField(help_text="Whether the tenant runs an MLflow tracking server")
    created = serializers.DateTimeField()

    @extend_schema_field(ResourcesSerializer)
    def get_quota(self, tenant) -> dict:
        return ResourcesSerializer(tenant_quota(tenant=tenant)).data

    @extend_schema_field(ResourcesSerializer)
    def get_usage(self, tenant) -> dict:
        return ResourcesSerializer(tenant_usage(tenant=tenant)).data


class QuotaInputSerializer(ResourcesSerializer):
    """Any subset of the dimensions: the ones left out keep their value (or default)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False

    class Meta:
        ref_name = "QuotaUpdate"


class TenantListApi(APIView):
    """GET: the tenants the caller may see (site admins: all). POST: create one (site admins)."""

    class InputSerializer(serializers.Serializer):
        slug = serializers.CharField(max_length=50, validators=[SLUG_VALIDATOR])
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        quota = QuotaInputSerializer(required=False)
        share = serializers.IntegerField(required=False, min_value=0, default=1)

        class Meta:
            ref_name = "TenantCreate"

    pagination_class = PAGINATION_CLASS

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSiteAdmin()]
        return super().get_permissions()

    @extend_schema(responses=TenantOutputSerializer(many=True))
    def get(self, request):
        return paginated_response(
            queryset=tenant_list(user=request.user),
            serializer_class=TenantOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(request=InputSerializer, responses={201: TenantOutputSerializer})
    @api_create
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenant_create(actor=request.user, ip=client_ip(request), **serializer.validated_data)
        return Response(TenantOutputSerializer(tenant).data, status=status.HTTP_201_CREATED)


class TenantDetailApi(APIView):
    """GET: a tenant with its quota and usage. PATCH: site admins change name, description and
    quota; tenant admins change name and description only."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        quota = QuotaInputSerializer(required=False)
        share = serializers.IntegerField(
            required=False, min_value=0, help_text="Fair-share weight in the launch queue; site admins only."
        )
        notebook_idle_minutes = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=60 * 24 * 365,
            help_text="Stop sandboxes whose notebook had no activity this long; null turns it off.",
        )

        class Meta:
            ref_name = "TenantUpdate"

    @extend_schema(responses=TenantOutputSerializer)
    def get(self, request, slug):
        tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
        return Response(TenantOutputSerializer(tenant).data)

    @extend_schema(request=InputSerializer, responses=TenantOutputSerializer)
    def patch(self, request, slug):
        tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
        if not user_can_admin_tenant(user=request.user, tenant=tenant):
            raise exceptions.PermissionDenied("Only this tenant's admins and site admins may change it.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "quota" in data and not request.user.is_site_admin:
            raise exceptions.PermissionDenied("Only site admins may change a tenant's quota.")
        if "share" in data and not request.user.is_site_admin:
            raise exceptions.PermissionDenied("Only site admins may change a tenant's fair share.")
        ip = client_ip(request)
        with transaction.atomic():
            tenant = tenant_update(
                actor=request.user,
                tenant=tenant,
                name=data.get("name"),
                description=data.get("description"),
                ip=ip,
            )
            if data.get("quota"):
                tenant = tenant_update_quota(
                    actor=request.user, tenant=tenant, quota=dict(data["quota"]), ip=ip
                )
            if "share" in data:
                tenant = tenant_set_share(actor=request.user, tenant=tenant, share=data["share"], ip=ip)
            if "notebook_idle_minutes" in data:
                tenant = tenant_set_notebook_idle_limit(
                    actor=request.user, tenant=tenant, minutes=data["notebook_idle_minutes"], ip=ip
                )
            tenant = self.apply_more(request=request, tenant=tenant, data=data, ip=ip)
        return Response(TenantOutputSerializer(tenant).data)

    def apply_more(self, *, request, tenant, data: dict, ip: str | None):
        """What apps above tenants add to this PATCH (the tracking switch, in tracking.api):
        they route a subclass here. Runs in the same transaction; returns the tenant."""
        return tenant
