"""Jobs in the browser: the jobs panel of a sandbox page (run a command, run the validation job,
the latest validation result, recent jobs), and a job's page with each node's log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.client_ip import client_ip
from frontend.views.guards import visible_sandbox
from provisioning.errors import InvalidRequest, NotFound, StateConflict
from provisioning.models import Job
from provisioning.selectors import (
    job_can_cancel,
    job_list,
    sandbox_can_manage,
    sandbox_live_nodes,
)
from provisioning.services import jobs as job_services
from provisioning.states import JOB_ACTIVE, SANDBOX_RUNS_JOBS

RECENT_JOBS = 10
MANAGE = "Only the sandbox's owner and its tenant's admins may run jobs on it."


@login_required
def sandbox_jobs_panel(request, pk: int):
    """The sandbox page loads this part with htmx, and polls it while a job runs."""
    sandbox = visible_sandbox(request, pk)
    jobs = list(job_list(user=request.user).filter(sandbox=sandbox)[:RECENT_JOBS])
    validation = (
        job_list(user=request.user)
        .filter(sandbox=sandbox, kind=Job.Kind.VALIDATION, result__isnull=False)
        .order_by("-created")
        .first()
    )
    roles = sorted({n.role for n in sandbox_live_nodes(sandbox=sandbox)})
    context = {
        "sandbox": sandbox,
        "jobs": jobs,
        "validation": validation,
        "can_run": sandbox.status == SANDBOX_RUNS_JOBS
        and sandbox_can_manage(user=request.user, sandbox=sandbox),
        "offers_validation": job_services.validation_command(sandbox=sandbox) is not None,
        "targets": ["all", *roles],
        "datataps": [tap.name for tap in sandbox.datataps.all()],
        "active": any(job.status in JOB_ACTIVE for job in jobs),
    }
    return render(request, "frontend/jobs/_panel.html", context)


def _back(sandbox) -> str:
    return reverse("sandbox-detail", args=[sandbox.pk]) + "#jobs"


def _start(request, sandbox, create):
    try:
        job = create()
    except (StateConflict, NotFound) as exc:
        messages.error(request, str(exc))
    except InvalidRequest as exc:
        messages.error(request, " ".join(p for problems in exc.fields.values() for p in problems))
    else:
        messages.success(request, f"Started job {job.pk} on {sandbox.name}.")
    return redirect(_back(sandbox))


@login_required
@require_POST
def job_run_page(request, pk: int):
    sandbox = visible_sandbox(request, pk, manage=MANAGE)
    return _start(
        request,
        sandbox,
        lambda: job_services.job_create(
            sandbox=sandbox,
            actor=request.user,
            command=request.POST.get("command", ""),
            target=request.POST.get("nodes", "all"),
            ip=client_ip(request),
        ),
    )


@login_required
@require_POST
def job_validate_page(request, pk: int):
    sandbox = visible_sandbox(request, pk, manage=MANAGE)
    return _start(
        request,
        sandbox,
        lambda: job_services.job_validation_create(
            sandbox=sandbox,
            actor=request.user,
            datatap=request.POST.get("datatap") or None,
            ip=client_ip(request),
        ),
    )


@login_required
def job_detail_page(request, pk: int):
    job = get_object_or_404(job_list(user=request.user), pk=pk)
    context = {
        "job": job,
        "processes": list(job.nodes.all()),
        "active": job.status in JOB_ACTIVE,
        "can_cancel": job_can_cancel(user=request.user, job=job),
    }
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "frontend/jobs/_live.html", context)
    return render(request, "frontend/jobs/detail.html", context)


@login_required
@require_POST
def job_cancel_page(request, pk: int):
    job = get_object_or_404(job_list(user=request.user), pk=pk)
    if not job_can_cancel(user=request.user, job=job):
        raise PermissionDenied(
            "Only who started the job, the sandbox's owner and its tenant's admins may cancel it."
        )
    try:
        job_services.job_cancel(job=job, actor=request.user, ip=client_ip(request))
    except StateConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cancelling job {job.pk} on every node.")
    return redirect("job-detail", pk=job.pk)
