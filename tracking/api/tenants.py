"""`PATCH /api/v1/tenants/{slug}/ {"tracking": true|false}`: the tenant detail API with the
tracking switch. tenants cannot import this app, so the route is this subclass (tracking.api.urls,
included before tenants' own in portal.api_urls)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.client_ip import client_ip
from tenants.api.tenants import TenantDetailApi, TenantOutputSerializer
from tenants.selectors.memberships import user_can_admin_tenant
from tenants.selectors.tenants import tenant_list
from tracking.services import tracking_server_purge, tracking_set_enabled


class TenantTrackingDetailApi(TenantDetailApi):
    """GET: a tenant with its quota and usage. PATCH: site admins change name, description and
    quota; tenant admins change name and description, and switch its MLflow tracking server
    on or off (`tracking`)."""

    class InputSerializer(TenantDetailApi.InputSerializer):
        tracking = serializers.BooleanField(
            required=False,
            help_text="Run the tenant's MLflow tracking server and model registry (tenant admins). Off "
            "removes its container and keeps its database and artifacts.",
        )

        class Meta:
            ref_name = "TenantUpdate"

    @extend_schema(request=InputSerializer, responses=TenantOutputSerializer)
    def patch(self, request, slug):
        return super().patch(request, slug)

    def apply_more(self, *, request, tenant, data: dict, ip: str | None):
        if "tracking" in data:
            tracking_set_enabled(actor=request.user, tenant=tenant, enabled=data["tracking"], ip=ip)
            tenant.refresh_from_db()
        return tenant


class TenantTrackingDataApi(APIView):
    """DELETE: remove a switched-off tracking server's data for good (its database, artifact
    volume and the storage they hold). Tenant admins and site admins."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug):
        tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
        if not user_can_admin_tenant(user=request.user, tenant=tenant):
            raise exceptions.PermissionDenied("Only this tenant's admins and site admins may do this.")
        tracking_server_purge(actor=request.user, tenant=tenant, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
