from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.api.pagination import PAGINATION_CLASS, paginated_response
from common.client_ip import client_ip
from tenants.api.permissions import IsTenantAdmin
from tenants.models import Membership
from tenants.selectors.memberships import membership_list
from tenants.selectors.tenants import tenant_list
from tenants.services.memberships import membership_add, membership_change_role, membership_remove


class MemberOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    created = serializers.DateTimeField()

    class Meta:
        ref_name = "Member"


class _TenantAdminApi(APIView):
    """Member management: another tenant answers 404; a tenant that the caller only belongs to
    as a member answers 403. Adding a name that does not exist or may not join (a service
    account; a site admin, unless a site admin asks) answers the same 400; the last admin
    demoting or removing themselves answers 409."""

    def tenant(self, request, slug):
        tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
        self.check_object_permissions(request, tenant)
        return tenant

    def get_permissions(self):
        return [*super().get_permissions(), IsTenantAdmin()]


class MemberListApi(_TenantAdminApi):
    pagination_class = PAGINATION_CLASS

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)

        class Meta:
            ref_name = "MemberAdd"

    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request, slug):
        tenant = self.tenant(request, slug)
        return paginated_response(
            queryset=membership_list(tenant=tenant),
            serializer_class=MemberOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    @api_create
    def post(self, request, slug):
        tenant = self.tenant(request, slug)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_add(
            actor=request.user,
            tenant=tenant,
            username=serializer.validated_data["username"],
            role=serializer.validated_data["role"],
            ip=client_ip(request),
        )
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(_TenantAdminApi):
    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Membership.Role.choices)

        class Meta:
            ref_name = "MemberUpdate"

    def membership(self, request, slug, username):
        tenant = self.tenant(request, slug)
        return get_object_or_404(membership_list(tenant=tenant), user__username=username)

    @extend_schema(responses=MemberOutputSerializer)
    def get(self, request, slug, username):
        return Response(MemberOutputSerializer(self.membership(request, slug, username)).data)

    @extend_schema(request=InputSerializer, responses=MemberOutputSerializer)
    def patch(self, request, slug, username):
        membership = self.membership(request, slug, username)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_change_role(
            actor=request.user,
            membership=membership,
            role=serializer.validated_data["role"],
            ip=client_ip(request),
        )
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        membership_remove(
            actor=request.user, membership=self.membership(request, slug, username), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
