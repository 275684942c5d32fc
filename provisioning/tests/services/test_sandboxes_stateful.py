"""The sandbox lifecycle as a state machine that Hypothesis drives at random over a fake engine:
users create, stop, start, resize and delete; containers vanish behind the platform's back; the
host goes away and comes back; an admin lowers the quota; the reconciler runs. Workers advance
operations one step at a time, in between everything else.

After every step: usage never exceeds the quota (unless an admin lowered it), the ledger holds
exactly what the live sandboxes and nodes hold, every status change is a legal one, and every
error says why. After a reconcile with the host up: the engine runs what the database says and
nothing else."""

import itertools
import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from provisioning.errors import InvalidRequest, NoCapacity, StateConflict
from provisioning.models import (
    Host,
    Node,
    NodeStatus,
    Operation,
    OperationStatus,
    Sandbox,
    SandboxStatus,
)
from provisioning.services.operations import operation_advance
from provisioning.services.reconciler import host_reconcile
from provisioning.services.sandboxes import (
    sandbox_create,
    sandbox_delete,
    sandbox_resize,
    sandbox_start,
    sandbox_stop,
)
from provisioning.tests.doubles import fake_engine
from provisioning.tests.factories import HostFactory
from tenants.models import Allocation, Membership
from tenants.resources import DIMENSIONS, QuotaExceeded
from tenants.selectors.usage import tenant_quota, tenant_usage
from tenants.services.tenants import tenant_update_quota
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory

S = SandboxStatus
#: Every status change one step may make (an operation can finish within a single step); a
#: delete is accepted in every state but deleted. No admission pass runs here: a queued launch
#: leaves the queue only when cancelled.
LEGAL = {
    S.PENDING: {S.PROVISIONING, S.RUNNING, S.ERROR, S.DELETING},
    S.QUEUED: {S.DELETED},
    S.PROVISIONING: {S.RUNNING, S.ERROR, S.DELETING},
    S.RUNNING: {S.STOPPING, S.PROVISIONING, S.DELETING, S.UNKNOWN},
    S.UNKNOWN: {S.RUNNING, S.STOPPING, S.DELETING},
    S.STOPPING: {S.STOPPED, S.ERROR, S.DELETING},
    S.STOPPED: {S.STARTING, S.DELETING},
    S.STARTING: {S.RUNNING, S.ERROR, S.DELETING},
    S.DELETING: {S.DELETED, S.ERROR},
    S.ERROR: {S.DELETING},
    S.DELETED: set(),
}
#: Refusals that must leave everything as it was.
REFUSALS = (QuotaExceeded, NoCapacity, StateConflict, InvalidRequest)
#: A node in one of these holds its cpus and memory in the ledger.
HOLDS_QUOTA = {
    NodeStatus.PENDING,
    NodeStatus.STARTING,
    NodeStatus.RUNNING,
    NodeStatus.UNKNOWN,
    NodeStatus.FAILED,
}

_runs = itertools.count()


class SandboxLifecycle(RuleBasedStateMachine):
    sandboxes = Bundle("sandboxes")

    def __init__(self):
        super().__init__()
        run = next(_runs)
        self.tenant = TenantFactory(
            slug=f"t{run}",
            name=f"T{run}",
            quota_cpus=Decimal("5"),
            quota_memory_mib=16384,
            quota_storage_gib=30,
            quota_sandboxes=3,
        )
        self.user = UserFactory(username=f"u{run}")
        MembershipFactory(user=self.user, tenant=self.tenant, role=Membership.Role.MEMBER)
        self.admin = UserFactory(username=f"admin{run}", is_site_admin=True)
        self.host = HostFactory(name=f"fake-{run}", cpus=2, memory_mib=65536)
        # The examples share one database: earlier examples' hosts take no more nodes.
        Host.objects.exclude(pk=self.host.pk).update(state=Host.State.DISABLED)
        # ...and their queued launches must not hold this one's behind them.
        Sandbox.objects.filter(status=S.QUEUED).update(status=S.DELETED)
        self.engine = fake_engine(self.host.url)
        self.quota_lowered = False
        self.seen: dict[int, str] = {}

    # --- users -------------------------------------------------------------------------------

    @initialize(target=sandboxes)
    def a_running_sandbox(self):
        """Every example starts with a sandbox up, so that the faults have something to hit."""
        sandbox = sandbox_create(
            owner=self.user, tenant=self.tenant, name="first", catalog_item="cluster", flavor="small"
        )
        operation = sandbox.operations.get()
        while operation_advance(operation_id=operation.pk).again_in is not None:
            pass
        sandbox.refresh_from_db()
        assert sandbox.status == S.RUNNING, sandbox.explanation
        self.seen[sandbox.pk] = sandbox.status
        return sandbox.pk

    @rule(target=sandboxes, workers=st.integers(0, 3))
    def create(self, workers):
        before = self._ledger()
        try:
            sandbox = sandbox_create(
                owner=self.user,
                tenant=self.tenant,
                name=f"s{Sandbox.objects.count()}",
                catalog_item="cluster",
                flavor="small",
                nodes={"worker": workers},
            )
        except REFUSALS:
            assert self._ledger() == before
            return multiple()
        self.seen[sandbox.pk] = sandbox.status
        return sandbox.pk

    @rule(sandbox_id=sandboxes)
    def stop(self, sandbox_id):
        self._request(sandbox_id, lambda s: sandbox_stop(sandbox=s, actor=self.user))

    @rule(sandbox_id=sandboxes)
    def start(self, sandbox_id):
        self._request(sandbox_id, lambda s: sandbox_start(sandbox=s, actor=self.user))

    @rule(sandbox_id=sandboxes, workers=st.integers(0, 4))
    def resize(self, sandbox_id, workers):
        self._request(
            sandbox_id, lambda s: sandbox_resize(sandbox=s, actor=self.user, nodes={"worker": workers})
        )

    @rule(sandbox_id=sandboxes)
    def delete(self, sandbox_id):
        self._request(sandbox_id, lambda s: sandbox_delete(sandbox=s, actor=self.user))

    # --- workers -----------------------------------------------------------------------------

    @precondition(lambda self: Operation.objects.active().filter(sandbox__tenant=self.tenant).exists())
    @rule()
    def advance(self):
        """Each worker takes one more step on each operation in flight."""
        for operation in Operation.objects.active().filter(sandbox__tenant=self.tenant).order_by("pk"):
            operation_advance(operation_id=operation.pk)
            operation.refresh_from_db()
            if operation.status == OperationStatus.FAILED:
                assert operation.explanation.strip()

    # --- the world ---------------------------------------------------------------------------

    @precondition(lambda self: self.engine.containers)
    @rule(data=st.data())
    def lose_a_container(self, data):
        """Removed by someone else, or the engine lost it."""
        # In creation order, not by name: ids differ from one replay of an example to the next.
        order = {
            n.container_name: (n.sandbox_id, n.role, n.index)
            for n in Node.objects.filter(host=self.host).select_related("sandbox")
        }
        names = sorted(self.engine.containers, key=lambda name: order.get(name, (0, name, 0)))
        self.engine.containers.pop(data.draw(st.sampled_from(names)))

    @precondition(lambda self: self.engine.reachable)
    @rule()
    def host_down(self):
        self.engine.reachable = False

    @precondition(lambda self: not self.engine.reachable)
    @rule()
    def host_up(self):
        self.engine.reachable = True

    @rule(cpus=st.integers(0, 3))
    def admin_lowers_the_quota(self, cpus):
        tenant_update_quota(actor=self.admin, tenant=self.tenant, quota={"cpus": Decimal(cpus)})
        self.quota_lowered = True

    @rule()
    def reconcile(self):
        host_reconcile(host=Host.objects.get(pk=self.host.pk))
        if self.engine.reachable:
            self._database_and_engine_agree()

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def usage_within_quota(self):
        if self.quota_lowered:
            return
        usage, quota = tenant_usage(tenant=self.tenant), tenant_quota(tenant=self.tenant)
        for name in DIMENSIONS:
            assert getattr(usage, name) <= getattr(quota, name), name

    @invariant()
    def ledger_matches_what_lives(self):
        """Usage is what the live sandboxes and nodes hold, each counted once."""
        live = Allocation.objects.filter(tenant=self.tenant, ended__isnull=True)
        subjects = list(live.values_list("subject", flat=True))
        assert len(subjects) == len(set(subjects)), "a subject holds two allocations"
        sandboxes = Sandbox.objects.filter(tenant=self.tenant)
        for sandbox in sandboxes:
            held = set(live.filter(group=sandbox.ledger_group).values_list("subject", flat=True))
            nodes = sandbox.nodes.all()
            expected_nodes = {n.ledger_subject for n in nodes if n.status in HOLDS_QUOTA}
            assert held - {sandbox.ledger_group} == expected_nodes, (sandbox.status, held, expected_nodes)
            if sandbox.status == S.DELETED:
                assert not held
            elif sandbox.status != S.ERROR:
                assert sandbox.ledger_group in held, sandbox.status
        usage = tenant_usage(tenant=self.tenant)
        holding = Node.objects.filter(sandbox__tenant=self.tenant, status__in=HOLDS_QUOTA)
        assert usage.cpus == sum((n.cpus for n in holding), Decimal("0"))
        assert usage.memory_mib == sum(n.memory_mib for n in holding)

    @invariant()
    def only_legal_transitions_and_errors_explained(self):
        for sandbox in Sandbox.objects.filter(tenant=self.tenant):
            before = self.seen.get(sandbox.pk, sandbox.status)
            if sandbox.status != before:
                assert sandbox.status in LEGAL[before], f"{before} -> {sandbox.status}"
            if sandbox.status in (S.ERROR, S.UNKNOWN):
                assert sandbox.explanation.strip(), sandbox.status
            self.seen[sandbox.pk] = sandbox.status

    # --- helpers -----------------------------------------------------------------------------

    def _request(self, sandbox_id, request):
        sandbox = Sandbox.objects.get(pk=sandbox_id)
        before = (sandbox.status, self._ledger(), self._nodes(sandbox))
        try:
            request(sandbox)
        except REFUSALS:
            sandbox.refresh_from_db()
            assert (sandbox.status, self._ledger(), self._nodes(sandbox)) == before

    def _ledger(self):
        return sorted(
            Allocation.objects.filter(tenant=self.tenant, ended__isnull=True).values_list(
                "subject", flat=True
            )
        )

    def _nodes(self, sandbox):
        return sorted(sandbox.nodes.values_list("role", "index", "status"))

    def _database_and_engine_agree(self):
        busy = set(Operation.objects.active().values_list("sandbox_id", flat=True))
        nodes = (
            Node.objects.filter(host=self.host).exclude(status=NodeStatus.DELETED).select_related("sandbox")
        )
        expected = {n.container_name: n for n in nodes}
        for name in self.engine.containers:
            assert name in expected, f"orphaned container {name}"
        for name, node in expected.items():
            if node.sandbox_id in busy:
                continue
            container = self.engine.containers.get(name)
            assert node.sandbox.status != S.UNKNOWN, "the host answers, yet the sandbox stays unknown"
            if node.sandbox.status == S.RUNNING:
                assert container and container["running"], f"{name} of a running sandbox is not running"
                assert node.status == NodeStatus.RUNNING
            elif node.sandbox.status == S.STOPPED:
                assert not (container and container["running"]), f"{name} of a stopped sandbox runs"
        keep = {
            s.resource_prefix
            for s in Sandbox.objects.filter(nodes__host=self.host).distinct()
            if s.status not in (S.DELETED, S.ERROR) or s.nodes.exclude(status=NodeStatus.DELETED).exists()
        } | {Sandbox.objects.get(pk=pk).resource_prefix for pk in busy}
        for name in [*self.engine.networks, *self.engine.volumes]:
            assert name.rsplit("-", 1)[0] in keep, f"orphaned {name}"


@pytest.mark.django_db
def test_sandbox_lifecycle_state_machine(cluster_item):
    run_state_machine_as_test(
        SandboxLifecycle,
        settings=settings(
            max_examples=int(os.environ.get("PORTAL_STATEFUL_EXAMPLES", "40")),
            stateful_step_count=40,
            deadline=None,
            database=None,  # nothing written into the working tree
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
