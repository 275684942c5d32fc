"""The warm pool, for site admins: how many ready nodes of each catalog item and flavor every
host keeps, and how they are doing (ready and starting per host, launches served and missed)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from provisioning.pool_selectors import PoolView, pool_list
from provisioning.services.pools import pool_set
from tenants.api.permissions import IsSiteAdmin


class PoolInput(serializers.Serializer):
    catalog_item = serializers.CharField()
    flavor = serializers.CharField()
    size = serializers.IntegerField(help_text="Ready nodes each host keeps; 0 empties the pool")


class PoolOutput(serializers.Serializer):
    id = serializers.IntegerField(source="setting.pk")
    catalog_item = serializers.CharField(source="setting.catalog_item.slug")
    flavor = serializers.CharField(source="setting.flavor.name")
    size = serializers.IntegerField(source="setting.size")
    ready = serializers.IntegerField()
    starting = serializers.IntegerField()
    hits = serializers.IntegerField(source="setting.hits")
    misses = serializers.IntegerField(source="setting.misses")
    miss_reasons = serializers.DictField(
        source="setting.miss_reasons",
        child=serializers.IntegerField(),
        help_text="misses by reason: none_ready (no pooled node ready on a host the launch may use), "
        "or the tenant service that gives nodes environment at creation (tracking)",
    )
    hosts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="host name -> pooled nodes by status (starting, ready, lost)",
    )


class PoolListSet(APIView):
    """GET: every pool. POST `{"catalog_item", "flavor", "size"}` sets how many ready nodes of
    that item and flavor each host keeps (made or removed in the background)."""

    permission_classes = [IsSiteAdmin]

    @extend_schema(responses={200: PoolOutput(many=True)})
    def get(self, request):
        return Response(PoolOutput(pool_list(), many=True).data)

    @extend_schema(request=PoolInput, responses={200: PoolOutput})
    @api_create
    def post(self, request):
        data = PoolInput(data=request.data)
        data.is_valid(raise_exception=True)
        setting = pool_set(actor=request.user, ip=client_ip(request), **data.validated_data)
        view = next((v for v in pool_list() if v.setting.pk == setting.pk), PoolView(setting=setting))
        return Response(PoolOutput(view).data)
