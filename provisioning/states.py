"""Every state a host, sandbox, node, operation or job of provisioning can be in, each with its
one-line meaning, and per entity the transition table: which action is allowed from which state,
which state it goes through while a worker carries it out, and where it ends.

Services, the reconciler, the API (a sandbox's `actions`) and the templates read these; no other
module spells a state or an allowed-from set by hand. Models take their `choices` from here."""

from django.db import models

from common.async_work import Transition


class HostState(models.TextChoices):
    PENDING = "pending", "Registered; a worker is taking its first inventory"
    READY = "ready", "Takes new nodes"
    UNREACHABLE = "unreachable", "The engine did not answer the last inventory"
    DRAINING = "draining", "Keeps its nodes, takes no new ones"
    DISABLED = "disabled", "Out of service"


class SandboxStatus(models.TextChoices):
    PENDING = "pending", "Accepted, waiting for a worker"
    QUEUED = "queued", "Within quota but no host has room now; starts by itself in fair-share order"
    PROVISIONING = "provisioning", "Containers are being created and started"
    RUNNING = "running", "Every node passes its healthcheck"
    STOPPING = "stopping", "Containers are being stopped"
    STOPPED = "stopped", "Containers stopped; workspace kept; cpus, memory and GPUs released"
    STARTING = "starting", "Stopped containers are being started again"
    DELETING = "deleting", "Containers, network and volumes are being removed"
    DELETED = "deleted", "Gone; kept as a record"
    ERROR = "error", "An operation failed; see the explanation"
    UNKNOWN = "unknown", "A host of the sandbox does not answer"


class SandboxAction(models.TextChoices):
    """What a user may ask of a sandbox; each is carried out by one operation of the same kind."""

    CREATE = "create", "Create"
    START = "start", "Start"
    STOP = "stop", "Stop"
    RESIZE = "resize", "Resize"
    DELETE = "delete", "Delete"


class NodeStatus(models.TextChoices):
    PENDING = "pending", "Placed, container not created yet"
    STARTING = "starting", "Container started, healthcheck not passed yet"
    RUNNING = "running", "Healthcheck passes"
    STOPPED = "stopped", "Container stopped"
    FAILED = "failed", "Container exited or never became healthy"
    UNKNOWN = "unknown", "Its host does not answer"
    DELETED = "deleted", "Container removed"


class PoolNodeStatus(models.TextChoices):
    STARTING = "starting", "Pooled container made and started, its services not answering yet"
    READY = "ready", "Answers, tenant-less: a launch may claim it"
    CLAIMED = "claimed", "Taken by a launch; a worker is joining it to the sandbox"
    ADOPTED = "adopted", "Became the sandbox's node: the row is a record"
    LOST = "lost", "Its container vanished, stopped or failed before a claim: being removed"
    REMOVED = "removed", "Its container, network (and, unless adopted, workspace) are gone"


class OperationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "A worker is carrying it out"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Did not complete; see the explanation"
    CANCELLED = "cancelled", "Superseded by a delete before it completed"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Accepted, waiting for a worker to start it on the nodes"
    RUNNING = "running", "The command runs on the nodes"
    SUCCEEDED = "succeeded", "Exited 0 on every node"
    FAILED = "failed", "Exited non-zero, or could not run, on at least one node; see the explanation"
    CANCELLED = "cancelled", "Stopped on every node at a user's request"


def _t(allowed_from, through, ends, fails=None) -> Transition:
    return Transition(frozenset(allowed_from), through, ends, fails)


S, N, Op, J, P = SandboxStatus, NodeStatus, OperationStatus, JobStatus, PoolNodeStatus

#: Sandbox actions. A create starts from nothing: the row is made `pending` and a worker takes it
#: on, or `queued` when no host has room, until the admission pass places it (then `pending`).
SANDBOX_TRANSITIONS: dict[str, Transition] = {
    SandboxAction.CREATE: _t({S.PENDING, S.QUEUED}, S.PROVISIONING, S.RUNNING, S.ERROR),
    # A start with no host free now waits in the queue like a create (its operation waits too).
    SandboxAction.START: _t({S.STOPPED}, S.STARTING, S.RUNNING, S.ERROR),
    # Stopping a queued sandbox takes it out of the queue at once: it ends stopped, its cpus and
    # memory released, to be started again later.
    SandboxAction.STOP: _t({S.RUNNING, S.UNKNOWN, S.QUEUED}, S.STOPPING, S.STOPPED, S.ERROR),
    SandboxAction.RESIZE: _t({S.RUNNING}, S.PROVISIONING, S.RUNNING, S.ERROR),
    # Accepted whatever is under way (a script deletes right after it creates): the operation in
    # flight is cancelled and the delete removes whatever it had made by then. A queued launch
    # has nothing on any engine: deleting it cancels it at once.
    SandboxAction.DELETE: _t(set(S) - {S.DELETED}, S.DELETING, S.DELETED, S.ERROR),
}
#: A sandbox in one of these has a worker acting on it, or waits in the queue for a host: no new
#: operation may start but a delete, which supersedes it (a queued one is cancelled).
SANDBOX_BUSY = frozenset({S.PENDING, S.QUEUED} | {t.through for t in SANDBOX_TRANSITIONS.values()})
#: The actions that cancel the operation in flight instead of waiting for it to end.
SANDBOX_SUPERSEDES = frozenset({SandboxAction.DELETE})
#: What the reconciler keeps converging: containers that should run, or should stay stopped.
SANDBOX_SETTLED = frozenset({S.RUNNING, S.UNKNOWN, S.STOPPED})
SANDBOX_FINAL = frozenset({S.DELETED})
#: States whose explanation tells of a problem, not of progress.
SANDBOX_TROUBLED = frozenset({S.ERROR, S.UNKNOWN})
#: Kept on hosts by the reconciler even without nodes: its network and volumes are still wanted.
SANDBOX_KEEPS_RESOURCES = frozenset(set(S) - {S.DELETED, S.ERROR})
#: A job runs only on a sandbox in this state.
SANDBOX_RUNS_JOBS = S.RUNNING

#: Node actions, carried out by the worker of a sandbox operation or by the reconciler.
NODE_TRANSITIONS: dict[str, Transition] = {
    "start": _t({N.PENDING, N.STARTING, N.STOPPED, N.FAILED, N.UNKNOWN}, N.STARTING, N.RUNNING, N.FAILED),
    "stop": _t({N.PENDING, N.STARTING, N.RUNNING, N.FAILED, N.UNKNOWN}, N.STOPPED, N.STOPPED),
    "remove": _t(set(N) - {N.DELETED}, N.DELETED, N.DELETED),
    # The reconciler found its host silent; the container may well still run.
    "lose": _t({N.RUNNING, N.STARTING}, N.UNKNOWN, N.UNKNOWN),
}
#: Nodes not yet removed: they still have a container, or will have one.
NODE_FINAL = frozenset({N.DELETED})
#: Nodes in these hold nothing on their host: no cpus, memory or GPUs are counted for them.
NODE_RELEASED = frozenset({N.STOPPED, N.DELETED})

#: Pooled nodes (provisioning.services.pools). A claim is one conditional update from `ready`,
#: so a node is handed out once, and never once it was found lost.
POOL_NODE_TRANSITIONS: dict[str, Transition] = {
    "ready": _t({P.STARTING}, P.READY, P.READY),
    "claim": _t({P.READY}, P.CLAIMED, P.CLAIMED),
    # The worker of the launch joined it to the sandbox (or found it gone and started cold).
    "adopt": _t({P.CLAIMED}, P.ADOPTED, P.ADOPTED, P.REMOVED),
    "lose": _t({P.STARTING, P.READY}, P.LOST, P.REMOVED),
    # A pool made smaller, a host out of service, a claim whose sandbox went before adoption.
    "remove": _t({P.STARTING, P.READY, P.LOST, P.CLAIMED}, P.REMOVED, P.REMOVED),
}
#: Pooled nodes whose container holds cpus and memory on their host (placement counts them); a
#: claimed one is counted as the sandbox's node instead.
POOL_HOLDS_HOST = frozenset({P.STARTING, P.READY, P.LOST})
#: Pooled nodes whose container, network and workspace the reconciler must leave alone.
POOL_OWNS_OBJECTS = frozenset({P.STARTING, P.READY, P.LOST, P.CLAIMED})

OPERATION_TRANSITIONS: dict[str, Transition] = {
    "run": _t({Op.PENDING, Op.RUNNING}, Op.RUNNING, Op.SUCCEEDED, Op.FAILED),
}
OPERATION_FINAL = frozenset({Op.SUCCEEDED, Op.FAILED, Op.CANCELLED})
OPERATION_ACTIVE = frozenset(set(Op) - OPERATION_FINAL)

JOB_TRANSITIONS: dict[str, Transition] = {
    "run": _t({J.PENDING}, J.RUNNING, J.SUCCEEDED, J.FAILED),
    # A cancel is a request: the worker that follows the job stops it and closes it cancelled.
    "cancel": _t({J.PENDING, J.RUNNING}, J.RUNNING, J.CANCELLED),
}
JOB_FINAL = frozenset({J.SUCCEEDED, J.FAILED, J.CANCELLED})
JOB_ACTIVE = frozenset(set(J) - JOB_FINAL)


def sandbox_action_allowed(*, status: str, action: str) -> bool:
    return status in SANDBOX_TRANSITIONS[action].allowed_from


def sandbox_actions_allowed(*, status: str) -> list[str]:
    """The actions a sandbox in `status` takes now, whoever asks (create is never one of them)."""
    return [
        action
        for action, transition in SANDBOX_TRANSITIONS.items()
        if action != SandboxAction.CREATE and status in transition.allowed_from
    ]


def job_action_allowed(*, status: str, action: str) -> bool:
    return status in JOB_TRANSITIONS[action].allowed_from
