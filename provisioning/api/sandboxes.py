"""Thin API views: parse, call a service or selector, serialise."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from provisioning.api.filters import OperationFilter, SandboxFilter
from provisioning.api.serializers import (
    OperationOutput,
    SandboxCreateInput,
    SandboxOutput,
    SandboxResizeInput,
)
from provisioning.models import Operation
from provisioning.selectors import sandbox_can_manage, sandbox_list
from provisioning.services import sandboxes as sandbox_services
from tenants.models import Tenant


def _sandbox_for(request, pk: int):
    return get_object_or_404(sandbox_list(user=request.user), pk=pk)


def _require_manager(request, sandbox) -> None:
    if not sandbox_can_manage(user=request.user, sandbox=sandbox):
        raise PermissionDenied("Only the sandbox's owner and its tenant's admins may change it.")


class SandboxListCreate(generics.ListAPIView):
    serializer_class = SandboxOutput
    filterset_class = SandboxFilter

    def get_queryset(self):
        return sandbox_list(user=self.request.user)

    @extend_schema(request=SandboxCreateInput, responses={202: SandboxOutput})
    @api_create
    def post(self, request):
        data = SandboxCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        tenant = get_object_or_404(Tenant.objects.visible_to(request.user), slug=args.pop("tenant"))
        sandbox = sandbox_services.sandbox_create(
            owner=request.user, tenant=tenant, ip=client_ip(request), **args
        )
        sandbox = sandbox_list(user=request.user).get(pk=sandbox.pk)
        return Response(SandboxOutput(sandbox, context={"request": request}).data, status=202)


class SandboxDetail(APIView):
    @extend_schema(responses=SandboxOutput)
    def get(self, request, pk: int):
        return Response(SandboxOutput(_sandbox_for(request, pk), context={"request": request}).data)

    @extend_schema(responses={202: OperationOutput})
    def delete(self, request, pk: int):
        return _act(request, pk, sandbox_services.sandbox_delete)


def _act(request, pk, service, **kwargs):
    sandbox = _sandbox_for(request, pk)
    _require_manager(request, sandbox)
    operation = service(sandbox=sandbox, actor=request.user, ip=client_ip(request), **kwargs)
    return Response(OperationOutput(operation).data, status=status.HTTP_202_ACCEPTED)


class SandboxStart(APIView):
    @extend_schema(request=None, responses={202: OperationOutput})
    def post(self, request, pk: int):
        return _act(request, pk, sandbox_services.sandbox_start)


class SandboxStop(APIView):
    @extend_schema(request=None, responses={202: OperationOutput})
    def post(self, request, pk: int):
        return _act(request, pk, sandbox_services.sandbox_stop)


class SandboxResize(APIView):
    @extend_schema(request=SandboxResizeInput, responses={202: OperationOutput})
    def post(self, request, pk: int):
        # Who may see and change the sandbox is decided before its body is read: another
        # tenant's sandbox is a 404 whatever the body.
        _require_manager(request, _sandbox_for(request, pk))
        data = SandboxResizeInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _act(request, pk, sandbox_services.sandbox_resize, **data.validated_data)


class SandboxOperations(generics.ListAPIView):
    serializer_class = OperationOutput
    filterset_class = OperationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no sandbox id
            return Operation.objects.none()
        return _sandbox_for(self.request, self.kwargs["pk"]).operations.select_related("requested_by")


class OperationDetail(generics.RetrieveAPIView):
    serializer_class = OperationOutput

    def get_queryset(self):
        return Operation.objects.visible_to(self.request.user).select_related("requested_by")
