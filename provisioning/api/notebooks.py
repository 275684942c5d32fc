"""The notebook gateway's side of the API: JupyterHub's PortalSpawner calls these with the
gateway's service token, naming the Hub user it acts for; the portal decides whether that user
may. The userinfo view is the OAuth2 identity endpoint the Hub's authenticator reads."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from provisioning.errors import NotFound
from provisioning.models import Notebook
from provisioning.services import notebooks as notebook_services
from tenants.models import User


class IsNotebookGateway(permissions.BasePermission):
    message = "Only the notebook gateway's service account may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.get_username() == settings.HUB_SERVICE_USERNAME)


class NotebookOpenInput(serializers.Serializer):
    sandbox = serializers.IntegerField()
    user = serializers.CharField(max_length=150, help_text="The Hub user (a portal username)")


class NotebookStartInput(serializers.Serializer):
    environment = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    api_token = serializers.CharField(
        max_length=512,
        help_text="The Hub's API token for the server: written to a file in the node that only its "
        "user may read, never into an environment",
    )
    args = serializers.ListField(child=serializers.CharField(), default=list)


class NotebookPollInput(serializers.Serializer):
    last_activity = serializers.DateTimeField(required=False, allow_null=True)


class NotebookOutput(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sandbox_status = serializers.CharField(source="sandbox.status", read_only=True)
    ip = serializers.SerializerMethodField()
    running = serializers.SerializerMethodField()

    class Meta:
        model = Notebook
        fields = [
            "id",
            "sandbox",
            "sandbox_status",
            "user",
            "ip",
            "port",
            "running",
            "started",
            "last_activity",
        ]
        read_only_fields = fields

    def get_ip(self, notebook) -> str | None:
        return notebook.node.ip if notebook.node_id and notebook.exec_id else None

    def get_running(self, notebook) -> bool:
        return bool(notebook.exec_id)


def _notebook(pk: int) -> Notebook:
    return get_object_or_404(Notebook.objects.select_related("sandbox", "node", "user"), pk=pk)


class NotebookOpen(APIView):
    permission_classes = [IsNotebookGateway]

    @extend_schema(request=NotebookOpenInput, responses=NotebookOutput)
    def post(self, request):
        data = NotebookOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["user"], is_active=True).first()
        if user is None:
            raise NotFound(f"No portal user {data.validated_data['user']!r}.")
        notebook = notebook_services.notebook_open(user=user, sandbox_id=data.validated_data["sandbox"])
        return Response(NotebookOutput(_notebook(notebook.pk)).data)


class NotebookStart(APIView):
    """200 with ip and port once the server process runs; 202 while its sandbox is starting."""

    permission_classes = [IsNotebookGateway]

    @extend_schema(request=NotebookStartInput, responses={200: NotebookOutput, 202: NotebookOutput})
    def post(self, request, pk: int):
        data = NotebookStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        notebook = _notebook(pk)
        started = notebook_services.notebook_start(notebook=notebook, **data.validated_data)
        if started is None:
            return Response(NotebookOutput(_notebook(pk)).data, status=status.HTTP_202_ACCEPTED)
        return Response(NotebookOutput(_notebook(pk)).data)


class NotebookPoll(APIView):
    permission_classes = [IsNotebookGateway]

    @extend_schema(request=NotebookPollInput, responses=NotebookOutput)
    def post(self, request, pk: int):
        data = NotebookPollInput(data=request.data)
        data.is_valid(raise_exception=True)
        notebook = _notebook(pk)
        running = notebook_services.notebook_poll(
            notebook=notebook, last_activity=data.validated_data.get("last_activity")
        )
        body = NotebookOutput(_notebook(pk)).data
        body["running"] = running
        return Response(body)


class NotebookStop(APIView):
    permission_classes = [IsNotebookGateway]

    @extend_schema(request=None, responses=NotebookOutput)
    def post(self, request, pk: int):
        notebook = _notebook(pk)
        notebook_services.notebook_stop(notebook=notebook)
        return Response(NotebookOutput(_notebook(pk)).data)


class UserInfoOutput(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    tenants = serializers.ListField(child=serializers.CharField())


class UserInfo(APIView):
    """Who the OAuth2 access token belongs to: the Hub names its user from `username`."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["profile"]

    @extend_schema(responses=UserInfoOutput)
    def get(self, request):
        user = request.user
        tenants = sorted(user.memberships.values_list("tenant__slug", flat=True))
        return Response(
            UserInfoOutput(
                {
                    "username": user.get_username(),
                    "name": user.get_full_name(),
                    "email": user.email,
                    "tenants": tenants,
                }
            ).data
        )
