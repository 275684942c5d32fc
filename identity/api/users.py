"""/api/v1/users/: site admins list, create, deactivate and reactivate accounts and set
temporary passwords."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.api.pagination import PAGINATION_CLASS, paginated_response
from common.client_ip import client_ip
from identity.selectors.users import user_list
from identity.services.users import user_create, user_set_active, user_set_temporary_password
from tenants.api.permissions import IsSiteAdmin


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField(help_text="Empty when unknown")
    is_active = serializers.BooleanField()
    is_site_admin = serializers.BooleanField()
    must_change_password = serializers.BooleanField()
    signs_in_with = serializers.SerializerMethodField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "User"

    def get_signs_in_with(self, user) -> list[str]:
        """ "ldap", "oidc"; empty for a local password."""
        return sorted({identity.provider for identity in user.external_identities.all()})


class UserListApi(APIView):
    permission_classes = [IsSiteAdmin]
    pagination_class = PAGINATION_CLASS

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(write_only=True, help_text="Temporary: changed at first login")
        email = serializers.EmailField(required=False, default="")
        first_name = serializers.CharField(required=False, default="", max_length=150)
        last_name = serializers.CharField(required=False, default="", max_length=150)
        is_site_admin = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "UserCreate"

    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request):
        return paginated_response(
            queryset=user_list(), serializer_class=UserOutputSerializer, request=request, view=self
        )

    @extend_schema(request=InputSerializer, responses={201: UserOutputSerializer})
    @api_create
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(actor=request.user, ip=client_ip(request), **serializer.validated_data)
        return Response(
            UserOutputSerializer(user_list().get(pk=user.pk)).data, status=status.HTTP_201_CREATED
        )


class UserDetailApi(APIView):
    permission_classes = [IsSiteAdmin]

    class InputSerializer(serializers.Serializer):
        is_active = serializers.BooleanField(required=False)
        password = serializers.CharField(
            required=False, write_only=True, help_text="A temporary password, changed at next login"
        )

        class Meta:
            ref_name = "UserUpdate"

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request, pk):
        return Response(UserOutputSerializer(get_object_or_404(user_list(), pk=pk)).data)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def patch(self, request, pk):
        user = get_object_or_404(user_list(), pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, ip = serializer.validated_data, client_ip(request)
        if "password" in data:
            user_set_temporary_password(actor=request.user, user=user, password=data["password"], ip=ip)
        if "is_active" in data:
            user_set_active(actor=request.user, user=user, is_active=data["is_active"], ip=ip)
        return Response(UserOutputSerializer(user_list().get(pk=user.pk)).data)
