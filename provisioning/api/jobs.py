"""Jobs over the API: run a command across a sandbox's nodes, follow its logs, cancel it."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import api_create
from common.client_ip import client_ip
from provisioning.models import Job
from provisioning.selectors import job_can_cancel, job_list, job_node_log, sandbox_can_manage, sandbox_list
from provisioning.services import jobs as job_services

#: A job list shows this much of the end of each node's log; the job itself shows it all.
LIST_LOG_TAIL = 4000


class JobCreateInput(serializers.Serializer):
    command = serializers.CharField(max_length=job_services.MAX_COMMAND_CHARS)
    nodes = serializers.CharField(
        max_length=50, default="all", help_text='"all", "head" or a role of the sandbox: where it runs'
    )


class JobValidationInput(serializers.Serializer):
    datatap = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Train on this DataTap of the sandbox (else generated data)",
    )


class JobNodeOutput(serializers.Serializer):
    node = serializers.CharField(help_text="The node's name, e.g. worker-0")
    role = serializers.CharField()
    rank = serializers.IntegerField()
    status = serializers.CharField()
    exit_code = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(help_text="How it ended when not by exiting")
    log = serializers.CharField(help_text="What it printed (stdout and stderr), from log_start")
    log_start = serializers.IntegerField(
        help_text="Position of the first character of log in the whole output"
    )
    log_end = serializers.IntegerField(help_text="Position after the last one: pass it as ?offset= next time")


class JobOutput(serializers.ModelSerializer):
    sandbox = serializers.IntegerField(source="sandbox_id")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    nodes = serializers.SerializerMethodField()
    cancel_requested = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "sandbox",
            "kind",
            "command",
            "target",
            "status",
            "explanation",
            "result",
            "nodes",
            "requested_by",
            "cancel_requested",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = fields

    @extend_schema(responses=JobNodeOutput(many=True))
    def get_nodes(self, job) -> list[dict]:
        offset, tail = self.context.get("offset"), self.context.get("log_tail")
        rows = []
        for process in job.nodes.all():
            text, end = job_node_log(process=process, offset=offset)
            if tail is not None:
                text = text[-tail:]
            rows.append(
                {
                    "node": process.node.hostname,
                    "role": process.node.role,
                    "rank": process.rank,
                    "status": process.status,
                    "exit_code": process.exit_code,
                    "detail": process.explanation,
                    "log": text,
                    "log_start": end - len(text),
                    "log_end": end,
                }
            )
        return JobNodeOutput(rows, many=True).data

    def get_cancel_requested(self, job) -> bool:
        return job.cancel_requested is not None


def _sandbox_for_jobs(request, pk: int):
    sandbox = get_object_or_404(sandbox_list(user=request.user), pk=pk)
    if not sandbox_can_manage(user=request.user, sandbox=sandbox):
        raise PermissionDenied("Only the sandbox's owner and its tenant's admins may run jobs on it.")
    return sandbox


def _created(request, job) -> Response:
    return Response(
        JobOutput(job_list(user=request.user).get(pk=job.pk)).data, status=status.HTTP_202_ACCEPTED
    )


class SandboxJobs(generics.ListAPIView):
    serializer_class = JobOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no sandbox
            return Job.objects.none()
        sandbox = get_object_or_404(sandbox_list(user=self.request.user), pk=self.kwargs["pk"])
        return job_list(user=self.request.user).filter(sandbox=sandbox)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "log_tail": LIST_LOG_TAIL}

    @extend_schema(request=JobCreateInput, responses={202: JobOutput})
    @api_create
    def post(self, request, pk: int):
        sandbox = _sandbox_for_jobs(request, pk)
        data = JobCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_services.job_create(
            sandbox=sandbox,
            actor=request.user,
            command=data.validated_data["command"],
            target=data.validated_data["nodes"],
            ip=client_ip(request),
        )
        return _created(request, job)


class SandboxValidationJob(APIView):
    @extend_schema(request=JobValidationInput, responses={202: JobOutput})
    @api_create
    def post(self, request, pk: int):
        sandbox = _sandbox_for_jobs(request, pk)
        data = JobValidationInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_services.job_validation_create(
            sandbox=sandbox,
            actor=request.user,
            datatap=data.validated_data.get("datatap") or None,
            ip=client_ip(request),
        )
        return _created(request, job)


class JobDetail(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "offset",
                int,
                description="Only the log after this position (a node's log_end of a former read)",
            )
        ],
        responses=JobOutput,
    )
    def get(self, request, pk: int):
        job = get_object_or_404(job_list(user=request.user), pk=pk)
        offset = request.query_params.get("offset")
        if offset is not None and not offset.isdigit():
            raise ValidationError({"offset": ["A whole number of characters, 0 or more."]})
        context = {"request": request, "offset": int(offset) if offset is not None else None}
        return Response(JobOutput(job, context=context).data)


class JobCancel(APIView):
    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request, pk: int):
        job = get_object_or_404(job_list(user=request.user), pk=pk)
        if not job_can_cancel(user=request.user, job=job):
            raise PermissionDenied(
                "Only who started the job, the sandbox's owner and its tenant's admins may cancel it."
            )
        job_services.job_cancel(job=job, actor=request.user, ip=client_ip(request))
        return _created(request, job)
