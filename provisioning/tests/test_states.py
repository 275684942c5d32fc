"""The transition tables are the one statement of what each state allows: the services obey
them, and the tables themselves are whole and consistent."""

import pytest

from catalog.states import IMAGE_BUILD_FINAL, IMAGE_BUILD_TRANSITIONS, ImageBuildStatus
from common.async_work import close_unless_final
from provisioning.errors import StateConflict
from provisioning.models import Job, Sandbox
from provisioning.services.sandboxes import sandbox_delete, sandbox_resize, sandbox_start, sandbox_stop
from provisioning.states import (
    JOB_FINAL,
    JOB_TRANSITIONS,
    NODE_TRANSITIONS,
    OPERATION_TRANSITIONS,
    SANDBOX_BUSY,
    SANDBOX_TRANSITIONS,
    HostState,
    JobStatus,
    NodeStatus,
    OperationStatus,
    SandboxAction,
    SandboxStatus,
    sandbox_actions_allowed,
)
from provisioning.tests.lifecycle import create, run

TABLES = [
    (SANDBOX_TRANSITIONS, SandboxStatus),
    (NODE_TRANSITIONS, NodeStatus),
    (OPERATION_TRANSITIONS, OperationStatus),
    (JOB_TRANSITIONS, JobStatus),
    (IMAGE_BUILD_TRANSITIONS, ImageBuildStatus),
]


@pytest.mark.parametrize(
    "choices", [HostState, SandboxStatus, NodeStatus, OperationStatus, JobStatus, ImageBuildStatus]
)
def test_every_state_has_a_one_line_meaning(choices):
    for value, meaning in choices.choices:
        assert meaning and meaning != value.title() and "\n" not in meaning, value


@pytest.mark.parametrize(("table", "states"), TABLES)
def test_every_transition_names_states_of_its_own_entity(table, states):
    for action, transition in table.items():
        named = {*transition.allowed_from, transition.through, transition.ends} | (
            {transition.fails} if transition.fails else set()
        )
        assert transition.allowed_from, action
        assert named <= set(states.values), action


def test_final_states_allow_nothing_and_busy_sandboxes_take_no_new_operation():
    assert sandbox_actions_allowed(status=SandboxStatus.DELETED) == []
    for status in SANDBOX_BUSY - {SandboxStatus.QUEUED}:
        assert sandbox_actions_allowed(status=status) == ["delete"], status
    # Waiting in the queue, it may also be stopped: it leaves the queue and is kept.
    assert sandbox_actions_allowed(status=SandboxStatus.QUEUED) == ["stop", "delete"]
    for status in JOB_FINAL:
        assert not any(status in t.allowed_from for t in JOB_TRANSITIONS.values())
    for status in IMAGE_BUILD_FINAL:
        assert not any(status in t.allowed_from for t in IMAGE_BUILD_TRANSITIONS.values())


def test_what_each_sandbox_state_allows():
    allowed = {status: sandbox_actions_allowed(status=status) for status in SandboxStatus}
    assert allowed == {
        SandboxStatus.PENDING: ["delete"],
        SandboxStatus.QUEUED: ["stop", "delete"],
        SandboxStatus.PROVISIONING: ["delete"],
        SandboxStatus.RUNNING: ["stop", "resize", "delete"],
        SandboxStatus.STOPPING: ["delete"],
        SandboxStatus.STOPPED: ["start", "delete"],
        SandboxStatus.STARTING: ["delete"],
        SandboxStatus.DELETING: ["delete"],
        SandboxStatus.DELETED: [],
        SandboxStatus.ERROR: ["delete"],
        SandboxStatus.UNKNOWN: ["stop", "delete"],
    }


ACTIONS = {
    SandboxAction.STOP: lambda sandbox, actor: sandbox_stop(sandbox=sandbox, actor=actor),
    SandboxAction.DELETE: lambda sandbox, actor: sandbox_delete(sandbox=sandbox, actor=actor),
    SandboxAction.RESIZE: lambda sandbox, actor: sandbox_resize(
        sandbox=sandbox, actor=actor, nodes={"worker": 1}
    ),
}


# A queued launch was never placed, so it cannot stand in for a created one here: its delete is a
# cancel that releases the reservation at once (provisioning/tests/test_queue_admission.py).
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("status", [s for s in SandboxStatus if s != SandboxStatus.QUEUED])
def test_the_services_follow_the_table(member, tenant, cluster_item, engine, status, action):
    sandbox, operation = create(member, tenant)
    run(operation)
    Sandbox.objects.filter(pk=sandbox.pk).update(status=status)
    transition = SANDBOX_TRANSITIONS[action]

    if status in transition.allowed_from:
        operation = ACTIONS[action](sandbox, member)
        assert operation.kind == action
        sandbox.refresh_from_db()
        assert sandbox.status == transition.through
        assert run(operation).status == OPERATION_TRANSITIONS["run"].ends
        sandbox.refresh_from_db()
        assert sandbox.status == transition.ends
    else:
        with pytest.raises(StateConflict):
            ACTIONS[action](sandbox, member)
        sandbox.refresh_from_db()
        assert sandbox.status == status


@pytest.mark.parametrize("status", [s for s in SandboxStatus if s != SandboxStatus.STOPPED])
def test_start_is_refused_unless_stopped(member, tenant, cluster_item, engine, status):
    sandbox, operation = create(member, tenant)
    run(operation)
    Sandbox.objects.filter(pk=sandbox.pk).update(status=status)

    with pytest.raises(StateConflict):
        sandbox_start(sandbox=sandbox, actor=member)


def test_start_from_stopped_goes_through_starting_to_running(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)
    run(sandbox_stop(sandbox=sandbox, actor=member))

    operation = sandbox_start(sandbox=sandbox, actor=member)
    sandbox.refresh_from_db()
    assert sandbox.status == SANDBOX_TRANSITIONS[SandboxAction.START].through
    run(operation)
    sandbox.refresh_from_db()
    assert sandbox.status == SANDBOX_TRANSITIONS[SandboxAction.START].ends


def test_closing_is_race_safe_the_first_close_stands(member, tenant, cluster_item, engine):
    sandbox, operation = create(member, tenant)
    run(operation)
    job = Job.objects.create(sandbox=sandbox, command="true", target="all", master_port=29501)

    assert close_unless_final(Job, job.pk, final=JOB_FINAL, status=JobStatus.CANCELLED, explanation="")
    assert not close_unless_final(Job, job.pk, final=JOB_FINAL, status=JobStatus.FAILED, explanation="late")
    job.refresh_from_db()
    assert (job.status, job.explanation) == (JobStatus.CANCELLED, "")
