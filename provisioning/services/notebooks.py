"""Notebooks: the JupyterLab each notebook sandbox runs in its head node, started once by the
image's entrypoint with the node's gateway path as base_url, and opened through the gateway
(provisioning/services/gateway.py). Opening only looks: a stopped sandbox is started by a
deliberate request (a POST), never by opening it. The idle stop reads the activity the gateway
records on each node."""

import contextlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.template.defaultfilters import pluralize
from django.utils import timezone

from common.errors import Forbidden
from provisioning.errors import NotFound, StateConflict
from provisioning.models import Node, Operation, Sandbox
from provisioning.selectors import sandbox_can_manage, sandbox_list
from provisioning.services.sandboxes import sandbox_start, sandbox_stop
from provisioning.states import SANDBOX_BUSY, NodeStatus, SandboxStatus
from tenants.models import User
from tenants.services.audit import audit_record

#: Stopping a sandbox because of this is audited under this action.
IDLE_STOP_ACTION = "sandbox.idle_stop"
#: The manifest's name of the service Open Jupyter opens.
JUPYTER = "jupyter"


class NotebookForbidden(Forbidden):
    """The user sees the sandbox (a member of its tenant) but may not use it: only whoever may
    manage a sandbox may run code in it, through Jupyter as through jobs."""

    code = "notebook_forbidden"


class SandboxStopped(StateConflict):
    """The sandbox is stopped: starting it is an action of its own (a POST), never a side
    effect of opening a notebook."""


def notebook_open(*, user: User, sandbox_id: int, start: bool = False, ip: str | None = None) -> str | None:
    """The gateway URL of the sandbox's JupyterLab, once it is checked that the user may use the
    sandbox (provisioning.selectors.sandbox_can_manage); None while the sandbox is on its way to
    running. Members of another tenant get NotFound, as for a sandbox that does not exist; other
    members of its tenant NotebookForbidden. A stopped sandbox raises SandboxStopped unless
    `start` (a deliberate request): it is then started. Without `start` nothing is written."""
    sandbox = sandbox_list(user=user).live().filter(pk=sandbox_id).first()
    if sandbox is None:
        raise NotFound(f"No sandbox {sandbox_id} that {user.get_username()} may open.")
    if not sandbox_can_manage(user=user, sandbox=sandbox):
        raise NotebookForbidden(
            f"Only the owner of sandbox {sandbox.name!r} and its tenant's admins may open Jupyter in it."
        )
    if not sandbox.catalog_item.spec.has_jupyter:
        raise StateConflict(
            f"Sandbox {sandbox.name!r} runs {sandbox.catalog_item.slug}, which has no Jupyter."
        )
    if sandbox.status == SandboxStatus.STOPPED:
        if not start:
            raise SandboxStopped(f"Sandbox {sandbox.name!r} is stopped.")
        # Someone else starting it meanwhile is a conflict only in name: it starts.
        with contextlib.suppress(StateConflict):
            sandbox_start(sandbox=sandbox, actor=user, ip=ip)
        return None
    if sandbox.status in SANDBOX_BUSY:
        return None
    if sandbox.status != SandboxStatus.RUNNING:
        raise StateConflict(
            f"Sandbox {sandbox.name!r} is {sandbox.status}"
            + (f": {sandbox.explanation}" if sandbox.explanation else ".")
        )
    return notebook_gateway_url(sandbox=sandbox)


def notebook_gateway_url(*, sandbox: Sandbox) -> str:
    """The gateway URL of the running sandbox's JupyterLab, for a caller that checked who may
    use it (the gateway checks again on every request)."""
    roles = sandbox.catalog_item.spec.roles
    for node in sandbox.nodes.all():  # ordered by role and index
        role = roles.get(node.role)
        service = next((s for s in (role.services if role else ()) if s.name == JUPYTER), None)
        if service is not None and node.status == NodeStatus.RUNNING:
            return f"{settings.GATEWAY_URL}{node.gateway_prefix}{JUPYTER}{service.path or '/'}"
    raise StateConflict(f"Sandbox {sandbox.name!r} has no running node that serves Jupyter.")


def notebooks_idle_stop(*, now: datetime | None = None) -> list[int]:
    """Stop (not delete) the running sandboxes opened through the gateway whose nodes saw no
    request for longer than their tenant's limit, with an audit event and a note on the
    sandbox. Returns their ids. The clock starts again when a sandbox is started."""
    now = now or timezone.now()
    stopped = []
    candidates = (
        Sandbox.objects.filter(
            status=SandboxStatus.RUNNING,
            tenant__notebook_idle_minutes__isnull=False,
            nodes__gateway_activity__isnull=False,
        )
        .annotate(last_activity=Max("nodes__gateway_activity"))
        .select_related("tenant")
    )
    for sandbox in candidates:
        minutes = sandbox.tenant.notebook_idle_minutes
        last = max(sandbox.last_activity, _last_started(sandbox))
        if now - last <= timedelta(minutes=minutes):
            continue
        note = (
            f"Stopped at {now:%Y-%m-%d %H:%M} UTC by the idle limit: its notebook had no activity for "
            f"more than {minutes} minute{pluralize(minutes)}. The workspace is kept; "
            "start it again from this page."
        )
        # One transaction: the worker, enqueued on commit, finds the note already on the operation.
        with transaction.atomic():
            try:
                operation = sandbox_stop(sandbox=sandbox, actor=None)
            except StateConflict:
                continue  # it changed meanwhile (e.g. its owner stopped it): nothing to do
            Operation.objects.filter(pk=operation.pk).update(explanation=note)
            Node.objects.filter(sandbox=sandbox).update(gateway_activity=None)
            audit_record(
                actor=None,
                action=IDLE_STOP_ACTION,
                tenant=sandbox.tenant,
                target=sandbox,
                detail={
                    "idle_minutes": minutes,
                    "last_activity": last.isoformat(),
                    "operation": operation.pk,
                },
            )
        stopped.append(sandbox.pk)
    return stopped


def _last_started(sandbox: Sandbox) -> datetime:
    """When the sandbox last began to run: activity from before a stop does not count after it."""
    started = (
        Operation.objects.filter(sandbox=sandbox, kind__in=[Operation.Kind.CREATE, Operation.Kind.START])
        .aggregate(last=Max("finished"))
        .get("last")
    )
    return started or sandbox.created
