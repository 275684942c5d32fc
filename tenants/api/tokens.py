from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.api.pagination import PAGINATION_CLASS, paginated_response
from common.client_ip import client_ip
from tenants.models import Token
from tenants.selectors.tokens import token_list
from tenants.services.tokens import token_create, token_obtain, token_revoke


class TokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The start of the key, to tell tokens apart")
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(allow_null=True)
    last_used = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Token"


class TokenCreatedSerializer(TokenOutputSerializer):
    key = serializers.CharField(help_text="Shown this once; send it as `Authorization: Token <key>`")

    class Meta:
        ref_name = "TokenCreated"


class AuthTokenApi(APIView):
    """Exchange a username and password for a token that expires. Failures count toward the
    lockout like failed browser logins."""

    # No session: scripts call this without a CSRF token, and a stale Token header must not
    # stop a fresh login.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

        class Meta:
            ref_name = "AuthTokenRequest"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires = serializers.DateTimeField()

        class Meta:
            ref_name = "AuthToken"

    @extend_schema(request=InputSerializer, responses=OutputSerializer, auth=[])
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = token_obtain(request=request, **serializer.validated_data)
        return Response(self.OutputSerializer({"token": key, "expires": token.expires}).data)


class TokenListApi(APIView):
    """The caller's own personal tokens: list, and create (the key is in the answer, once;
    a replay of the create by its Idempotency-Key answers without it). Every token expires;
    one made with a token expires no later than that token."""

    pagination_class = PAGINATION_CLASS

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        expires = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text=(
                "When it stops working; at most the site's maximum token lifetime "
                "(PORTAL_TOKEN_MAX_DAYS) away, and no later than the token making this request. "
                "Empty: the latest allowed."
            ),
        )

        class Meta:
            ref_name = "TokenCreate"

    @extend_schema(responses=TokenOutputSerializer(many=True))
    def get(self, request):
        return paginated_response(
            queryset=token_list(user=request.user),
            serializer_class=TokenOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(request=InputSerializer, responses={201: TokenCreatedSerializer})
    @api_create(secret_fields=("key",))
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = token_create(
            user=request.user,
            minted_with=request.auth if isinstance(request.auth, Token) else None,
            ip=client_ip(request),
            **serializer.validated_data,
        )
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(responses=TokenOutputSerializer)
    def get(self, request, pk):
        return Response(TokenOutputSerializer(get_object_or_404(token_list(user=request.user), pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        token = get_object_or_404(token_list(user=request.user), pk=pk)
        token_revoke(actor=request.user, token=token, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
