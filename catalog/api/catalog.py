from django.conf import settings
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.serializers import CatalogItemOutputSerializer, ImageBuildOutputSerializer
from catalog.filtersets import CatalogItemFilterSet
from catalog.registry import RegistryClient
from catalog.selectors import catalog_item_list, image_build_list
from catalog.services.builds import image_build_request
from catalog.services.catalog_items import catalog_item_register, catalog_item_set_enabled
from common.api.idempotency import api_create
from common.client_ip import client_ip
from tenants.api.permissions import IsSiteAdmin


class CatalogListApi(ListAPIView):
    """GET: the catalog (members: enabled items; site admins: all), filtered by `category`,
    `search` (name or slug), `enabled`, `gpu_capable`. POST (site admins): add an item for an
    image already in the registry, from its manifest (YAML text) and icon (SVG text)."""

    serializer_class = CatalogItemOutputSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CatalogItemFilterSet

    class CatalogItemAddInputSerializer(serializers.Serializer):
        manifest = serializers.CharField(trim_whitespace=False, help_text="manifest.yaml's text")
        icon = serializers.CharField(required=False, allow_blank=True, default="", help_text="SVG markup")

    def get_queryset(self):
        return catalog_item_list(user=self.request.user)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSiteAdmin()]
        return super().get_permissions()

    @extend_schema(request=CatalogItemAddInputSerializer, responses={201: CatalogItemOutputSerializer})
    @api_create
    def post(self, request):
        serializer = self.CatalogItemAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = catalog_item_register(
            manifest_text=serializer.validated_data["manifest"],
            icon=serializer.validated_data["icon"],
            actor=request.user,
            registry=RegistryClient(address=settings.IMAGE_REGISTRY),
            ip=client_ip(request),
        )
        return Response(CatalogItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class CatalogDetailApi(APIView):
    """GET: one item. PATCH (site admins): `{"enabled": false}` stops new sandboxes of it."""

    class CatalogItemPatchInputSerializer(serializers.Serializer):
        enabled = serializers.BooleanField()

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsSiteAdmin()]
        return super().get_permissions()

    @extend_schema(responses=CatalogItemOutputSerializer)
    def get(self, request, slug):
        item = get_object_or_404(catalog_item_list(user=request.user), slug=slug)
        return Response(CatalogItemOutputSerializer(item).data)

    @extend_schema(request=CatalogItemPatchInputSerializer, responses=CatalogItemOutputSerializer)
    def patch(self, request, slug):
        item = get_object_or_404(catalog_item_list(user=request.user), slug=slug)
        serializer = self.CatalogItemPatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = catalog_item_set_enabled(
            item=item, enabled=serializer.validated_data["enabled"], actor=request.user, ip=client_ip(request)
        )
        return Response(CatalogItemOutputSerializer(item).data)


class ImageBuildListApi(ListAPIView):
    """Site admins only. GET: the image builds, newest first. POST: build a new catalog item
    from its manifest and Dockerfile; answers 202, then poll GET /catalog-builds/{id}/."""

    serializer_class = ImageBuildOutputSerializer
    permission_classes = [IsSiteAdmin]
    filter_backends: list = []

    class ImageBuildInputSerializer(serializers.Serializer):
        manifest = serializers.CharField(trim_whitespace=False, help_text="manifest.yaml's text")
        dockerfile = serializers.CharField(trim_whitespace=False, help_text="The Dockerfile's text")
        icon = serializers.CharField(required=False, allow_blank=True, default="", help_text="SVG markup")

    def get_queryset(self):
        return image_build_list()

    @extend_schema(request=ImageBuildInputSerializer, responses={202: ImageBuildOutputSerializer})
    @api_create
    def post(self, request):
        serializer = self.ImageBuildInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        build = image_build_request(
            manifest_text=data["manifest"],
            dockerfile=data["dockerfile"],
            icon=data["icon"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(ImageBuildOutputSerializer(build).data, status=status.HTTP_202_ACCEPTED)


class ImageBuildDetailApi(APIView):
    permission_classes = [IsSiteAdmin]

    @extend_schema(responses=ImageBuildOutputSerializer)
    def get(self, request, pk):
        return Response(ImageBuildOutputSerializer(get_object_or_404(image_build_list(), pk=pk)).data)
