"""Thin API views: parse, call a service or selector, serialise."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from serving.api.serializers import (
    EndpointKeyCreatedOutput,
    EndpointKeyInput,
    EndpointKeyOutput,
    ModelEndpointCreateInput,
    ModelEndpointOutput,
    ModelEndpointUpdateInput,
)
from serving.models import EndpointKey
from serving.selectors import endpoint_can_manage, endpoint_keys, endpoint_list
from serving.services import endpoints as endpoint_services
from serving.services.keys import endpoint_key_create, endpoint_key_revoke
from tenants.models import Tenant


def _endpoint_for(request, pk: int):
    return get_object_or_404(endpoint_list(user=request.user), pk=pk)


def _managed(request, pk: int):
    endpoint = _endpoint_for(request, pk)
    if not endpoint_can_manage(user=request.user, endpoint=endpoint):
        raise PermissionDenied("Only the endpoint's owner and its tenant's admins may change it.")
    return endpoint


def _out(request, endpoint, status=200):
    endpoint = endpoint_list(user=request.user).get(pk=endpoint.pk)
    return Response(ModelEndpointOutput(endpoint).data, status=status)


class EndpointListCreate(generics.ListAPIView):
    serializer_class = ModelEndpointOutput

    def get_queryset(self):
        return endpoint_list(user=self.request.user)

    @extend_schema(request=ModelEndpointCreateInput, responses={202: ModelEndpointOutput})
    @api_create
    def post(self, request):
        data = ModelEndpointCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        tenant = get_object_or_404(Tenant.objects.visible_to(request.user), slug=args["tenant"])
        bounds = args.get("replicas") or {"min": 1, "max": 1}
        endpoint = endpoint_services.endpoint_create(
            owner=request.user,
            tenant=tenant,
            name=args["name"],
            model_name=args["model"]["name"],
            model_version=args["model"]["version"],
            min_replicas=bounds["min"],
            max_replicas=bounds["max"],
            flavor=args["flavor"],
            ip=client_ip(request),
        )
        return _out(request, endpoint, status=202)


class EndpointDetail(APIView):
    @extend_schema(responses=ModelEndpointOutput)
    def get(self, request, pk: int):
        return Response(ModelEndpointOutput(_endpoint_for(request, pk)).data)

    @extend_schema(request=ModelEndpointUpdateInput, responses={202: ModelEndpointOutput})
    def patch(self, request, pk: int):
        endpoint = _managed(request, pk)
        data = ModelEndpointUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = data.validated_data.get("model") or {}
        bounds = data.validated_data.get("replicas") or {}
        endpoint = endpoint_services.endpoint_update(
            endpoint=endpoint,
            actor=request.user,
            model_version=model.get("version"),
            min_replicas=bounds.get("min"),
            max_replicas=bounds.get("max"),
            ip=client_ip(request),
        )
        return _out(request, endpoint, status=202)

    @extend_schema(responses={202: ModelEndpointOutput})
    def delete(self, request, pk: int):
        endpoint = endpoint_services.endpoint_delete(
            endpoint=_managed(request, pk), actor=request.user, ip=client_ip(request)
        )
        return Response(ModelEndpointOutput(endpoint).data, status=202)


class EndpointKeys(APIView):
    @extend_schema(responses=EndpointKeyOutput(many=True))
    def get(self, request, pk: int):
        return Response(EndpointKeyOutput(endpoint_keys(endpoint=_managed(request, pk)), many=True).data)

    @extend_schema(request=EndpointKeyInput, responses={201: EndpointKeyCreatedOutput})
    @api_create(secret_fields=("key",))
    def post(self, request, pk: int):
        endpoint = _managed(request, pk)
        data = EndpointKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        row, key = endpoint_key_create(
            endpoint=endpoint, actor=request.user, name=data.validated_data["name"], ip=client_ip(request)
        )
        row.key = key
        return Response(EndpointKeyCreatedOutput(row).data, status=201)


class EndpointKeyRevoke(APIView):
    @extend_schema(request=None, responses=EndpointKeyOutput)
    def delete(self, request, pk: int, key_id: int):
        endpoint = _managed(request, pk)
        key = get_object_or_404(EndpointKey.objects.filter(endpoint=endpoint), pk=key_id)
        return Response(
            EndpointKeyOutput(endpoint_key_revoke(key=key, actor=request.user, ip=client_ip(request))).data
        )
