"""Docker hosts, for site admins: register, look, drain, disable, return to service, refresh,
delete."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from provisioning.api.filters import HostFilter
from provisioning.api.serializers import HostCreateInput, HostOutput
from provisioning.models import Host
from provisioning.services.hosts import (
    ADMIN_STATES,
    host_delete,
    host_inventory_refresh,
    host_register,
    host_set_state,
)
from tenants.api.permissions import IsSiteAdmin


class HostStateInput(serializers.Serializer):
    state = serializers.ChoiceField(choices=ADMIN_STATES)


class HostListCreate(generics.ListAPIView):
    serializer_class = HostOutput
    permission_classes = [IsSiteAdmin]
    queryset = Host.objects.order_by("name")
    filterset_class = HostFilter

    @extend_schema(
        request=HostCreateInput,
        responses={202: HostOutput},
        description="Answers at once with the host `pending`; a worker takes its inventory, and the host "
        "becomes `ready`, `unreachable` (with `last_error`) or, for an engine registered already, "
        "`disabled` (with `last_error`).",
    )
    @api_create
    def post(self, request):
        data = HostCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        host = host_register(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(HostOutput(host).data, status=status.HTTP_202_ACCEPTED)


class HostDetail(generics.RetrieveAPIView):
    """PATCH `{"state": "draining" | "disabled" | "ready"}`: draining keeps its nodes and takes no
    new ones; disabled takes it out of service; ready returns it (after a fresh inventory).
    DELETE removes a host that holds no node (409 naming the nodes otherwise)."""

    serializer_class = HostOutput
    permission_classes = [IsSiteAdmin]
    queryset = Host.objects.all()

    @extend_schema(request=HostStateInput, responses={200: HostOutput})
    def patch(self, request, pk):
        data = HostStateInput(data=request.data)
        data.is_valid(raise_exception=True)
        host = host_set_state(
            actor=request.user,
            host=self.get_object(),
            state=data.validated_data["state"],
            ip=client_ip(request),
        )
        host.refresh_from_db()
        return Response(HostOutput(host).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        host_delete(actor=request.user, host=self.get_object(), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HostRefresh(APIView):
    """Take the host's inventory now (CPUs, memory, GPUs, engine version) instead of waiting for
    the reconciler."""

    permission_classes = [IsSiteAdmin]

    @extend_schema(request=None, responses={200: HostOutput})
    def post(self, request, pk):
        host = host_inventory_refresh(host=get_object_or_404(Host, pk=pk))
        return Response(HostOutput(host).data)
