from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.serializers import FlavorSerializer
from catalog.models import Flavor
from catalog.selectors import flavor_list
from catalog.services.flavors import flavor_create, flavor_delete, flavor_update
from common.api.idempotency import api_create
from common.client_ip import client_ip
from tenants.api.permissions import IsSiteAdmin


class FlavorInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flavor
        fields = ["name", "description", "cpus", "memory_mib", "gpus", "disk_gib"]
        extra_kwargs = {"cpus": {"min_value": Decimal("0.01")}, "memory_mib": {"min_value": 64}}


class FlavorListApi(ListAPIView):
    """GET: the flavors, smallest first. POST (site admins): add one."""

    serializer_class = FlavorSerializer
    filter_backends: list = []

    def get_queryset(self):
        return flavor_list()

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSiteAdmin()]
        return super().get_permissions()

    @extend_schema(request=FlavorInputSerializer, responses={201: FlavorSerializer})
    @api_create
    def post(self, request):
        serializer = FlavorInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        flavor = flavor_create(actor=request.user, ip=client_ip(request), **serializer.validated_data)
        return Response(FlavorSerializer(flavor).data, status=status.HTTP_201_CREATED)


class FlavorDetailApi(APIView):
    """GET: one flavor. PATCH, DELETE: site admins (its name is its key and cannot change)."""

    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsSiteAdmin()]
        return super().get_permissions()

    @extend_schema(responses=FlavorSerializer)
    def get(self, request, name):
        return Response(FlavorSerializer(get_object_or_404(flavor_list(), name=name)).data)

    @extend_schema(request=FlavorInputSerializer, responses=FlavorSerializer)
    def patch(self, request, name):
        flavor = get_object_or_404(flavor_list(), name=name)
        serializer = FlavorInputSerializer(flavor, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if changes.pop("name", flavor.name) != flavor.name:
            raise exceptions.ValidationError({"name": ["A flavor's name cannot change."]})
        flavor = flavor_update(flavor=flavor, actor=request.user, ip=client_ip(request), **changes)
        return Response(FlavorSerializer(flavor).data)

    @extend_schema(responses={204: None})
    def delete(self, request, name):
        flavor = get_object_or_404(flavor_list(), name=name)
        flavor_delete(flavor=flavor, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
