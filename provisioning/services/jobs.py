"""Jobs: a command run on some or all of a sandbox's nodes, one process per node, as the node's
non-root user in its workspace, with the distributed environment of this job.

Each node keeps the job in a folder of its own (Job.workdir): the command, the MPI-style hostfile,
the process group's id, the log and, once the command ended, its exit code. The worker reads that
folder back through short execs, so following a job needs no open stream and survives a worker
restart: job_advance is a poll, safe to repeat, and the reconciler resumes a job nobody follows.
A cancel signals the whole process group (the command runs under setsid), TERM first, then KILL.
"""

import json
import logging
import shlex
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from common.async_work import Outcome, close_unless_final
from provisioning.containers import node_rank
from provisioning.drivers import DriverError, driver_for_host
from provisioning.errors import InvalidRequest, NotFound, StateConflict
from provisioning.frameworks import MASTER_PORT, job_framework_environment
from provisioning.models import Job, JobNode, Node, Sandbox
from provisioning.scripts import script_text
from provisioning.services import worker_locks
from provisioning.services.dispatch import job_enqueue
from provisioning.services.worker_locks import worker_lock
from provisioning.states import (
    JOB_ACTIVE,
    JOB_FINAL,
    JOB_TRANSITIONS,
    SANDBOX_RUNS_JOBS,
    JobStatus,
    NodeStatus,
    job_action_allowed,
)
from tenants.models import User
from tenants.services.audit import audit_record

log = logging.getLogger(__name__)

#: The manifest's environment names the image's validation job under this key.
VALIDATION_ENV = "VALIDATION_JOB"
#: Rank 0 of the validation job prints its measurements on one line starting with this.
VALIDATION_RESULT_MARK = "SANDBOX_VALIDATION_RESULT "
MAX_COMMAND_CHARS = 20_000
#: The log's tail kept per node; older output is let go (log_dropped counts it).
LOG_KEEP_CHARS = 1_000_000
#: At most this much of a node's log is read per poll, so one poll stays short.
LOG_READ_BYTES = 256 * 1024
POLL_S = 1.0
#: A launched command that has not written its pid by then never started.
LAUNCH_GRACE = timedelta(seconds=30)
#: After a cancel, processes that ignore TERM this long get KILL.
CANCEL_GRACE = timedelta(seconds=5)
#: Jobs not advanced for this long lost their worker; the reconciler hands them to another.
STALE_AFTER = timedelta(seconds=30)

# The scripts that launch, follow and signal a job's process in a node (provisioning/scripts/).
_PREPARE = script_text("prepare")
_RUN = script_text("run")
_PROBE = script_text("probe")
_SIGNAL = script_text("signal")


def job_create(
    *,
    sandbox: Sandbox,
    actor: User,
    command: str,
    target: str = "all",
    kind: str = Job.Kind.COMMAND,
    ip: str | None = None,
) -> Job:
    """Record a job on the sandbox's running nodes that `target` names ("all", "head" or a role)
    and hand it to a worker. The environment and hostfile come from the nodes as they are now,
    so a job after a resize sees the new cluster."""
    command = (command or "").strip()
    if not command:
        raise InvalidRequest({"command": ["Give the command to run."]})
    if len(command) > MAX_COMMAND_CHARS:
        raise InvalidRequest({"command": [f"At most {MAX_COMMAND_CHARS} characters."]})
    with transaction.atomic():
        # The lock orders the job after any operation being recorded on the sandbox right now.
        sandbox = Sandbox.objects.select_for_update().select_related("tenant").get(pk=sandbox.pk)
        if sandbox.status != SANDBOX_RUNS_JOBS:
            raise StateConflict(
                f"Sandbox {sandbox.name!r} is {sandbox.status}; a job runs only on a running sandbox.",
            )
        nodes = _target_nodes(sandbox, target)
        job = Job.objects.create(
            sandbox=sandbox, kind=kind, command=command, target=target, requested_by=actor, master_port=0
        )
        # A port of its own per job: a cancelled job's rendezvous may still hold the last one.
        job.master_port = MASTER_PORT + 1 + job.pk % 500
        job.save(update_fields=["master_port"])
        JobNode.objects.bulk_create(JobNode(job=job, node=node, rank=rank) for rank, node in enumerate(nodes))
        audit_record(
            actor=actor,
            action=f"job.{kind}",
            tenant=sandbox.tenant,
            target=job,
            ip=ip,
            detail={"sandbox": sandbox.pk, "target": target, "command": command[:500]},
        )
        job_enqueue(job)
    return job


def job_validation_create(
    *, sandbox: Sandbox, actor: User, datatap: str | None = None, ip: str | None = None
) -> Job:
    """The validation job that the sandbox's image ships, on every node; it trains on the
    DataTap `datatap` when given (it must be mounted in the sandbox)."""
    command = validation_command(sandbox=sandbox)
    if command is None:
        raise StateConflict(f"The catalog item {sandbox.catalog_item.slug!r} ships no validation job.")
    if datatap:
        tap = sandbox.datataps.filter(name=datatap).first()
        if tap is None:
            raise NotFound(
                f"No DataTap {datatap!r} is mounted in sandbox {sandbox.name!r}.",
                fields={"datatap": [f"Not mounted in this sandbox: {datatap}"]},
            )
        command = f"{command} --data {shlex.quote(tap.mount_target)}"
    return job_create(sandbox=sandbox, actor=actor, command=command, kind=Job.Kind.VALIDATION, ip=ip)


def validation_command(*, sandbox: Sandbox) -> str | None:
    return sandbox.catalog_item.spec.environment.get(VALIDATION_ENV)


def job_cancel(*, job: Job, actor: User, ip: str | None = None) -> Job:
    """Ask the worker that follows the job to stop it on every node (it signals within a poll)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("sandbox__tenant").get(pk=job.pk)
        if not job_action_allowed(status=job.status, action="cancel"):
            raise StateConflict(f"Job {job.pk} is already {job.status}.")
        if job.cancel_requested is None:
            job.cancel_requested = timezone.now()
            job.save(update_fields=["cancel_requested", "updated"])
            audit_record(actor=actor, action="job.cancel", tenant=job.sandbox.tenant, target=job, ip=ip)
    return job


def jobs_resume() -> list[int]:
    """Hand the active jobs that no worker advanced lately to a worker again (their task was lost
    with a killed worker). A job that is in fact followed skips the extra task: it is locked."""
    stale = list(
        Job.objects.active().filter(updated__lt=timezone.now() - STALE_AFTER).values_list("pk", flat=True)
    )
    for job in Job.objects.filter(pk__in=stale):
        job_enqueue(job)
    return stale


def job_advance(*, job_id: int) -> Outcome:
    """Do what can be done for the job now: launch it, read its nodes' logs and exit codes,
    carry out a cancel, finish it. Returns when to look again."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status in JOB_FINAL:
        return Outcome()
    with worker_lock(worker_locks.JOB, job_id) as acquired:
        if not acquired:  # another worker follows it
            return Outcome()
        job = Job.objects.select_related("sandbox__catalog_item").get(pk=job_id)
        if job.status in JOB_FINAL:
            return Outcome()
        processes = list(job.nodes.select_related("node__host", "node__sandbox").order_by("rank"))
        if job.status == JobStatus.PENDING:
            if job.cancel_requested is not None:
                JobNode.objects.filter(job=job).update(
                    status=JobStatus.CANCELLED, explanation="Cancelled before it started"
                )
                _close(job, JobStatus.CANCELLED, "")
                return Outcome()
            if job.sandbox.status != SANDBOX_RUNS_JOBS:
                explanation = f"The sandbox became {job.sandbox.status} before the job started."
                JobNode.objects.filter(job=job).update(status=JobStatus.FAILED, explanation=explanation)
                _close(job, JobStatus.FAILED, explanation)
                return Outcome()
            job.status, job.started = JOB_TRANSITIONS["run"].through, timezone.now()
            job.save(update_fields=["status", "started", "updated"])
        if job.cancel_requested is None and any(p.launched is None for p in processes):
            _launch(job, processes)  # again after a crash midway: launched nodes are skipped
        for process in processes:
            if process.status not in JOB_ACTIVE:
                continue
            if process.launched is None:  # the cancel came before this node's launch
                process.status, process.explanation = JobStatus.CANCELLED, "Cancelled before it started"
                process.save(update_fields=["status", "explanation"])
                continue
            _follow(job, process)
        if any(p.status in JOB_ACTIVE for p in processes):
            job.save(update_fields=["updated"])  # shows the reconciler that the job is followed
            return Outcome(again_in=POLL_S)
        _finish(job, processes)
        return Outcome()


def _target_nodes(sandbox: Sandbox, target: str) -> list[Node]:
    live = list(sandbox.nodes.live().select_related("sandbox"))
    roles = sorted({n.role for n in live})
    if target == "all":
        chosen = live
    elif target in roles:
        chosen = [n for n in live if n.role == target]
    else:
        raise InvalidRequest({"nodes": [f"Use all or one of the sandbox's roles: {', '.join(roles)}."]})
    not_running = [n.hostname for n in chosen if n.status != NodeStatus.RUNNING]
    if not_running:
        raise StateConflict(
            f"Node(s) {', '.join(sorted(not_running))} of sandbox {sandbox.name!r} are not running.",
        )
    # The job's ranks follow the sandbox's: head-0 first, so it is MASTER_ADDR when it takes part.
    return sorted(chosen, key=node_rank)


def hostfile(nodes: list[Node]) -> str:
    """MPI style, one line per node: its GPUs, or else its whole CPUs (at least one), as slots."""
    return "".join(f"{n.hostname} slots={len(n.gpu_uuids) or max(1, int(n.cpus))}\n" for n in nodes)


def job_environment(
    job: Job, process: JobNode, processes: list[JobNode], *, cluster: list[Node]
) -> dict[str, str]:
    """The distributed environment of one node's process, made from the job's nodes and the
    sandbox's running nodes (`cluster`, head first) now: the container's own variables date from
    its start and go stale when the sandbox is resized. Which frameworks' variables it holds,
    the image's manifest says (provisioning.frameworks)."""
    hostfile_path = f"{job.workdir}/hostfile"
    return {
        **job_framework_environment(
            frameworks=job.sandbox.catalog_item.spec.frameworks,
            head=cluster[0].hostname,
            job_nodes=[p.node.hostname for p in processes],
            rank=process.rank,
            port=job.master_port,
            hostfile=hostfile_path,
        ),
        # Libraries size their thread pools by the host's cores, not the node's CPU limit; with
        # more threads than CPUs the engine throttles them (a small DDP run went 3x slower).
        "OMP_NUM_THREADS": str(max(1, int(process.node.cpus))),
        "SANDBOX_JOB_ID": str(job.pk),
        "SANDBOX_HOSTFILE": hostfile_path,
        # Who the node is, as a node started cold has it in its environment: a node that came
        # from the warm pool has the pooled node's (provisioning.services.pools).
        "SANDBOX_ID": str(job.sandbox_id),
        "SANDBOX_NAME": job.sandbox.name,
        "SANDBOX_NODE": process.node.hostname,
    }


def _launch(job: Job, processes: list[JobNode]) -> None:
    manifest = job.sandbox.catalog_item.spec
    user, workdir = manifest.user.container_user, manifest.workspace
    # The whole cluster, whichever nodes the job runs on: a launcher on the head (mpirun,
    # pdsh, deepspeed) reaches every node from it.
    cluster = sorted(job.sandbox.nodes.filter(status=NodeStatus.RUNNING), key=node_rank)
    text = hostfile(cluster)
    for process in processes:
        if process.launched is not None or process.status in JOB_FINAL:
            continue
        node = process.node
        try:
            driver = driver_for_host(node.host)
            prepared = driver.exec_start(
                name=node.container_name,
                command=["sh", "-c", _PREPARE, "prepare", job.workdir, text, job.command],
                user=user,
                workdir=workdir,
            )
            if prepared.exit_code != 0:
                raise DriverError(f"preparing the job failed: {prepared.output.strip()[-300:]}")
            started = driver.exec_start(
                name=node.container_name,
                command=["setsid", "-w", "sh", "-c", _RUN, "job", job.workdir],
                environment=job_environment(job, process, processes, cluster=cluster),
                user=user,
                workdir=workdir,
                detach=True,
            )
        except DriverError as exc:
            process.status, process.explanation = JobStatus.FAILED, f"Could not start: {exc}"[:300]
            process.save(update_fields=["status", "explanation"])
            continue
        process.status, process.exec_id, process.launched = JobStatus.RUNNING, started.exec_id, timezone.now()
        process.save(update_fields=["status", "exec_id", "launched"])


def _follow(job: Job, process: JobNode) -> None:
    """Read what the node's process printed since the last look and whether it ended; signal
    it when the job is being cancelled."""
    node = process.node
    try:
        driver = driver_for_host(node.host)
        probe = driver.exec_start(
            name=node.container_name,
            command=[
                "sh",
                "-c",
                _PROBE,
                "probe",
                job.workdir,
                str(process.log_read_bytes),
                str(LOG_READ_BYTES),
            ],
        )
    except DriverError as exc:
        process.status, process.explanation = JobStatus.FAILED, f"Lost the node: {exc}"[:300]
        process.save(update_fields=["status", "explanation"])
        return
    header, _, chunk = probe.output.partition("\n")
    try:
        state, size, length = header.split()
        size, length = int(size), int(length)
    except ValueError:
        process.status, process.explanation = JobStatus.FAILED, f"Unreadable job state: {header[:200]}"
        process.save(update_fields=["status", "explanation"])
        return
    _append_log(process, chunk, length)
    fields = ["log", "log_dropped", "log_read_bytes"]
    cancelling = job.cancel_requested is not None
    if state.startswith("exit:"):
        if process.log_read_bytes >= size:  # the whole log is in: the node is done
            process.exit_code = int(state.removeprefix("exit:"))
            if process.exit_code == 0:
                process.status = JobStatus.SUCCEEDED
            else:
                process.status = JobStatus.CANCELLED if cancelling else JobStatus.FAILED
            fields += ["exit_code", "status"]
    elif state == "gone" or (state == "absent" and timezone.now() - process.launched > LAUNCH_GRACE):
        if cancelling:
            process.status, process.explanation = JobStatus.CANCELLED, "Stopped by the cancel"
        elif state == "gone":
            process.status, process.explanation = (
                JobStatus.FAILED,
                "Killed before it exited (the node restarted?)",
            )
        else:
            process.status, process.explanation = JobStatus.FAILED, "The command never started"
        fields += ["status", "explanation"]
    elif cancelling:
        late = timezone.now() - job.cancel_requested > CANCEL_GRACE
        try:
            driver.exec_start(
                name=node.container_name,
                command=["sh", "-c", _SIGNAL, "signal", job.workdir, "KILL" if late else "TERM"],
            )
        except DriverError as exc:
            log.warning("could not signal job %s on %s: %s", job.pk, node.hostname, exc)
    process.save(update_fields=fields)


def _append_log(process: JobNode, chunk: str, length: int) -> None:
    if not length:
        return
    process.log += chunk
    process.log_read_bytes += length
    excess = len(process.log) - LOG_KEEP_CHARS
    if excess > 0:
        process.log = process.log[excess:]
        process.log_dropped += excess


def _finish(job: Job, processes: list[JobNode]) -> None:
    if job.cancel_requested is not None:
        status, explanation = JobStatus.CANCELLED, ""
    elif all(p.status == JobStatus.SUCCEEDED for p in processes):
        status, explanation = JobStatus.SUCCEEDED, ""
    else:
        failed = [p for p in processes if p.status != JobStatus.SUCCEEDED]
        reasons = [
            f"{p.node.hostname} ({f'exit code {p.exit_code}' if p.exit_code is not None else p.explanation})"
            for p in failed
        ]
        status = JobStatus.FAILED
        explanation = f"The command failed on {len(failed)} of {len(processes)} nodes: {'; '.join(reasons)}."
    if job.kind == Job.Kind.VALIDATION:
        job.result = _validation_result(processes[0].log)
        if status == JobStatus.SUCCEEDED and job.result is None:
            status, explanation = JobStatus.FAILED, "The validation job printed no result."
    _close(job, status, explanation)


def _validation_result(text: str) -> dict | None:
    for line in reversed(text.splitlines()):
        if line.startswith(VALIDATION_RESULT_MARK):
            try:
                return json.loads(line.removeprefix(VALIDATION_RESULT_MARK))
            except ValueError:
                return None
    return None


def _close(job: Job, status: str, explanation: str) -> None:
    now = timezone.now()
    close_unless_final(
        Job,
        job.pk,
        final=JOB_FINAL,
        status=status,
        explanation=explanation,
        result=job.result,
        finished=now,
        updated=now,
    )
