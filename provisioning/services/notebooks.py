"""Notebooks: the Jupyter single-user servers that the notebook gateway (JupyterHub, through
provisioning/spawner.py) asks the portal to run inside sandboxes. The portal owns every
container: the Hub never talks to an engine, it asks here, and here decides who may.

A notebook is one process (`jupyterhub-singleuser`, through the image's `sandbox-notebook`)
exec'd in the sandbox's head node, with the Hub's environment; the Hub's API token for it goes
in a file only the node's user may read, which the server reads once and removes, never in an
environment. Stopping it leaves the sandbox running. Calls are idempotent, so a Hub that
restarts, or retries, adopts what runs already."""

import contextlib
import logging
import shlex
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from common.errors import Forbidden
from provisioning.drivers import DriverError, HostUnreachable, driver_for_host
from provisioning.drivers.base import SECRETS_DIR
from provisioning.errors import InvalidRequest, NotFound, StateConflict
from provisioning.models import Node, NodeStatus, Notebook, Operation, Sandbox, SandboxStatus
from provisioning.selectors import sandbox_can_manage, sandbox_list
from provisioning.services.sandboxes import sandbox_start, sandbox_stop
from provisioning.states import SANDBOX_BUSY
from tenants.models import User
from tenants.services.audit import audit_record

log = logging.getLogger(__name__)

#: 8888 is the image's own Jupyter (SANDBOX_JUPYTER); the gateway's servers listen from here up.
FIRST_PORT = 8889
#: Runs jupyterhub-singleuser with the token of the file it is given (catalog/images/*/).
COMMAND = "sandbox-notebook"
#: Only the Hub's own variables pass: the Hub cannot set PATH, LD_PRELOAD or the like.
ENVIRONMENT_PREFIXES = ("JUPYTERHUB_", "JPY_")
#: The Hub's variables that carry its API token: they come as `api_token`, never as variables.
TOKEN_VARIABLES = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")
#: Stopping a sandbox because of this is audited under this action.
IDLE_STOP_ACTION = "sandbox.idle_stop"


class NotebookForbidden(Forbidden):
    """The user sees the sandbox (a member of its tenant) but may not use it: only whoever may
    manage a sandbox may run code in it, through Jupyter as through jobs."""


class SandboxStopped(StateConflict):
    """The sandbox is stopped: starting it is an action of its own (a POST), never a side
    effect of opening a notebook."""


def _run_dir(port: int) -> str:
    return f"/tmp/portal-notebook-{port}"  # noqa: S108 - inside the sandbox, the user's own /tmp


def notebook_sandbox(*, user: User, sandbox_id: int, start: bool = False, ip: str | None = None) -> Sandbox:
    """The sandbox, once it is checked that the user may open a notebook in it now.

    Who may is who may manage the sandbox (provisioning.selectors.sandbox_can_manage, the rule
    of the API's start, stop, delete and jobs): members of another tenant get NotFound, as for a
    sandbox that does not exist; other members of its tenant get NotebookForbidden. A stopped
    sandbox raises SandboxStopped unless `start` is given, which only a deliberate request (a
    POST of the portal's page) passes: it is then started, and the caller waits for
    notebook_start. Without `start` nothing is written."""
    sandbox = sandbox_list(user=user).live().filter(pk=sandbox_id).first()
    if sandbox is None:
        raise NotFound(f"No sandbox {sandbox_id} that {user.get_username()} may open.")
    _require_may_use(user=user, sandbox=sandbox)
    if not sandbox.catalog_item.spec.has_jupyter:
        raise StateConflict(
            f"Sandbox {sandbox.name!r} runs {sandbox.catalog_item.slug}, which has no Jupyter.",
        )
    if sandbox.status in (SandboxStatus.ERROR, SandboxStatus.DELETING):
        raise StateConflict(f"Sandbox {sandbox.name!r} is {sandbox.status}: it cannot run a notebook.")
    if sandbox.status == SandboxStatus.STOPPED:
        if not start:
            raise SandboxStopped(
                f"Sandbox {sandbox.name!r} is stopped: start it from its page in the portal, "
                "then open Jupyter.",
                status=sandbox.status,
            )
        # Someone else starting it meanwhile is a conflict only in name: it starts.
        with contextlib.suppress(StateConflict):
            sandbox_start(sandbox=sandbox, actor=user, ip=ip)
    return sandbox


def notebook_open(*, user: User, sandbox_id: int) -> Notebook:
    """The user's notebook in the sandbox, recorded (and a port set aside) if new: what the
    notebook gateway asks for first. It never starts a stopped sandbox (notebook_sandbox)."""
    sandbox = notebook_sandbox(user=user, sandbox_id=sandbox_id)
    existing = Notebook.objects.filter(sandbox=sandbox, user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):  # two users opening at once may pick the same port: retry
        taken = set(Notebook.objects.filter(sandbox=sandbox).values_list("port", flat=True))
        port = next(p for p in range(FIRST_PORT, FIRST_PORT + len(taken) + 1) if p not in taken)
        try:
            with transaction.atomic():
                return Notebook.objects.create(sandbox=sandbox, user=user, port=port)
        except IntegrityError:
            existing = Notebook.objects.filter(sandbox=sandbox, user=user).first()
            if existing is not None:
                return existing
    raise StateConflict("Could not set a port aside for the notebook; try again.")


def notebook_start(
    *, notebook: Notebook, environment: dict[str, str], api_token: str, args: list[str] | None = None
) -> Notebook | None:
    """Run the notebook's server in the head node, or adopt the one that runs. None while the
    sandbox is not running yet (the caller asks again). Returns the notebook with `node` set,
    whose ip is where the Hub reaches the server. `api_token` is the Hub's token for the server:
    it reaches the node as a file (put_secret_files), never in the server's environment."""
    args = args or []
    _validate_start(environment=environment, api_token=api_token, args=args)
    sandbox = Sandbox.objects.select_related("catalog_item").get(pk=notebook.sandbox_id)
    _require_may_use_notebook(notebook)
    if sandbox.status in SANDBOX_BUSY or sandbox.status == SandboxStatus.UNKNOWN:
        return None
    if sandbox.status != SandboxStatus.RUNNING:
        raise StateConflict(
            f"Sandbox {sandbox.name!r} is {sandbox.status}"
            + (f": {sandbox.explanation}" if sandbox.explanation else "."),
        )
    node = _head_node(sandbox)
    driver = driver_for_host(node.host)
    if (
        notebook.exec_id
        and notebook.node_id == node.pk
        and driver.exec_poll(exec_id=notebook.exec_id).running
    ):
        return notebook
    manifest = sandbox.catalog_item.spec
    run_dir = _run_dir(notebook.port)
    token_name = f"hub_token_{notebook.port}"
    # A shell records the server's pid (notebook_stop signals it) and keeps its log in the
    # sandbox, where the user can read it; the server itself gets the Hub's environment only.
    script = f'mkdir -p {run_dir} && echo $$ > {run_dir}/pid && exec "$@" >> {run_dir}/log 2>&1'
    command = ["/bin/sh", "-c", script, "sh", COMMAND, f"{SECRETS_DIR}/{token_name}", *args]
    try:
        driver.put_secret_files(
            name=node.container_name, files={token_name: api_token}, owner=manifest.user.container_user
        )
        state = driver.exec_start(
            name=node.container_name,
            command=command,
            environment=environment,
            user=manifest.user.container_user,
            workdir=manifest.workspace,
            detach=True,
        )
    except DriverError as exc:
        raise StateConflict(f"Could not start Jupyter in {node.hostname}: {exc}") from exc
    now = timezone.now()
    Notebook.objects.filter(pk=notebook.pk).update(
        exec_id=state.exec_id, node=node, started=now, last_activity=now
    )
    notebook.refresh_from_db()
    return notebook


def notebook_poll(*, notebook: Notebook, last_activity: datetime | None = None) -> bool:
    """Whether the notebook's server process runs; records the Hub's last activity of it. The
    server of a user who may no longer use the sandbox is stopped."""
    if last_activity is not None and (
        notebook.last_activity is None or last_activity > notebook.last_activity
    ):
        Notebook.objects.filter(pk=notebook.pk).update(last_activity=last_activity)
        notebook.last_activity = last_activity
    if not notebook.exec_id or notebook.node_id is None:
        return False
    try:
        _require_may_use_notebook(notebook)
    except (NotFound, NotebookForbidden):
        notebook_stop(notebook=notebook)
        return False
    node = Node.objects.select_related("host").get(pk=notebook.node_id)
    if node.status != NodeStatus.RUNNING or node.host is None:
        return False
    try:
        return driver_for_host(node.host).exec_poll(exec_id=notebook.exec_id).running
    except HostUnreachable:
        return True  # unknown is not dead: the reconciler marks the node, and then we know


def notebook_stop(*, notebook: Notebook) -> None:
    """End the notebook's server; the sandbox keeps running. Gone already is fine."""
    if notebook.exec_id and notebook.node_id is not None:
        node = Node.objects.select_related("host", "sandbox").get(pk=notebook.node_id)
        if node.status == NodeStatus.RUNNING and node.host is not None:
            run_dir = _run_dir(notebook.port)
            try:
                driver_for_host(node.host).exec_start(
                    name=node.container_name,
                    command=["/bin/sh", "-c", f"kill -TERM $(cat {run_dir}/pid) 2>/dev/null; true"],
                    user=node.sandbox.catalog_item.spec.user.container_user,
                )
            except DriverError as exc:  # the container went away: so did the server
                log.info("notebook %s: stop found no container: %s", notebook.pk, exc)
    Notebook.objects.filter(pk=notebook.pk).update(exec_id="", started=None)


def notebooks_idle_stop(*, now: datetime | None = None) -> list[int]:
    """Stop (not delete) the running sandboxes whose notebooks all had no activity for longer
    than their tenant's limit, with an audit event and a note on the sandbox. Returns their ids."""
    now = now or timezone.now()
    stopped = []
    candidates = (
        Sandbox.objects.filter(
            status=SandboxStatus.RUNNING,
            tenant__notebook_idle_minutes__isnull=False,
            notebooks__exec_id__gt="",
        )
        .select_related("tenant")
        .distinct()
    )
    for sandbox in candidates:
        limit = timedelta(minutes=sandbox.tenant.notebook_idle_minutes)
        activity = [n.last_activity or n.started for n in sandbox.notebooks.exclude(exec_id="")]
        last = max((a for a in activity if a is not None), default=None)
        if last is None or now - last <= limit:
            continue
        minutes = sandbox.tenant.notebook_idle_minutes
        note = (
            f"Stopped at {now:%Y-%m-%d %H:%M} UTC by the idle limit: its notebook had no activity for "
            f"more than {minutes} minute{pluralize(minutes)}. The workspace is kept; "
            "open Jupyter again to start it."
        )
        # One transaction: the worker, enqueued on commit, finds the note already on the operation.
        with transaction.atomic():
            try:
                operation = sandbox_stop(sandbox=sandbox, actor=None)
            except StateConflict:
                continue  # it changed meanwhile (e.g. its owner stopped it): nothing to do
            Operation.objects.filter(pk=operation.pk).update(explanation=note)
            Notebook.objects.filter(sandbox=sandbox).update(exec_id="", started=None)
            audit_record(
                actor=None,
                action=IDLE_STOP_ACTION,
                tenant=sandbox.tenant,
                target=sandbox,
                detail={
                    "idle_minutes": sandbox.tenant.notebook_idle_minutes,
                    "last_activity": last.isoformat(),
                    "operation": operation.pk,
                },
            )
        stopped.append(sandbox.pk)
    return stopped


def hub_spawn_url(*, user: User, sandbox: Sandbox) -> str:
    """Where the browser goes to open the sandbox's notebook: the Hub's spawn page of the named
    server, which spawns it (or finds it running) and then goes to JupyterLab."""
    return f"{settings.HUB_URL}/hub/spawn/{quote(user.get_username(), safe='')}/{sandbox.pk}"


def _require_may_use(*, user: User, sandbox: Sandbox) -> None:
    if not sandbox_can_manage(user=user, sandbox=sandbox):
        raise NotebookForbidden(
            f"Only the owner of sandbox {sandbox.name!r} and its tenant's admins may open Jupyter in it."
        )


def _require_may_use_notebook(notebook: Notebook) -> None:
    """Checked on every start and poll, not only at open: who left the tenant, or was demoted,
    loses the notebook."""
    user = User.objects.get(pk=notebook.user_id)
    sandbox = sandbox_list(user=user).filter(pk=notebook.sandbox_id).first()
    if sandbox is None:
        raise NotFound(f"No sandbox {notebook.sandbox_id} that {user.get_username()} may open.")
    _require_may_use(user=user, sandbox=sandbox)


def _head_node(sandbox: Sandbox) -> Node:
    nodes = sorted(
        sandbox.nodes.filter(status=NodeStatus.RUNNING).select_related("host", "sandbox"),
        key=lambda n: (n.role != "head", n.role, n.index),
    )
    if not nodes or nodes[0].host is None:
        raise StateConflict(f"Sandbox {sandbox.name!r} has no running node.")
    return nodes[0]


def _validate_start(*, environment: dict, api_token: str, args: list) -> None:
    errors = {}
    secret_keys = [k for k in environment if k in TOKEN_VARIABLES]
    if secret_keys:
        errors["environment"] = [
            f"{', '.join(secret_keys)} must not be in the environment: send the token as api_token."
        ]
        environment = {k: v for k, v in environment.items() if k not in TOKEN_VARIABLES}
    if not isinstance(api_token, str) or not api_token.strip():
        errors["api_token"] = ["The Hub's API token for the server is required."]
    bad_keys = [k for k in environment if not isinstance(k, str) or not k.startswith(ENVIRONMENT_PREFIXES)]
    if bad_keys:
        errors.setdefault("environment", []).append(
            f"Only JUPYTERHUB_* and JPY_* variables pass, not {', '.join(map(str, bad_keys))}."
        )
    if any(not isinstance(v, str) for v in environment.values()):
        errors.setdefault("environment", []).append("Values must be strings.")
    if any(not isinstance(a, str) or not a.startswith("--") for a in args):
        errors["args"] = [f"Only options (--name=value) pass, not {shlex.join(map(str, args))}."]
    if errors:
        raise InvalidRequest(errors)
