"""The launch queue as a state machine that Hypothesis drives at random over two fake engines:
two tenants launch (some preemptible), stop, delete and cancel; engines go away and come back;
time passes; workers advance operations; admission passes run (and preempt).

After every step: no host holds more than its capacity, no tenant more than its quota, a queued
launch holds no host, no sandbox was admitted twice. After every pass: nothing was admitted out
of fair-share order (a launch left waiting ahead of an admitted one asks for more of something).
At the end, with room freed: every queued launch is admitted or expired."""

import contextlib
import itertools
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from provisioning.errors import NoCapacity, StateConflict
from provisioning.models import Host, Node, NodeStatus, Operation, Sandbox, SandboxStatus
from provisioning.queue_selectors import queue_standings
from provisioning.services.admission import queue_admit_pass
from provisioning.services.hosts import host_inventory_refresh
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create, sandbox_delete, sandbox_start, sandbox_stop
from provisioning.tests.doubles import fake_engine
from tenants.models import Membership, Tenant, User
from tenants.resources import DIMENSIONS, QuotaExceeded
from tenants.selectors.usage import tenant_quota, tenant_usage

S = SandboxStatus
HOST_CPUS = 2
_runs = itertools.count()


class QueueMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        run = next(_runs)
        # The examples share one database: earlier examples' hosts and queue are out of the way.
        Host.objects.update(state=Host.State.DISABLED)
        Sandbox.objects.filter(status=S.QUEUED).update(status=S.DELETED)
        Sandbox.objects.filter(status=S.STOPPING).update(status=S.STOPPED)
        self.hosts = [
            Host.objects.create(
                name=f"q{run}-{i}", url=f"fake://q{run}-{i}", cpus=HOST_CPUS, memory_mib=65536
            )
            for i in range(2)
        ]
        self.engines = [fake_engine(h.url) for h in self.hosts]
        for engine in self.engines:  # what the inventory finds when a host comes back
            engine.cpus, engine.memory_mib = HOST_CPUS, 65536
        self.user = User.objects.create_user(username=f"q{run}")
        self.tenants = []
        # a launches preemptible sandboxes (mostly); b, with the bigger share, never does.
        for name, share in (("a", 1), ("b", 3)):
            tenant = Tenant.objects.create(
                slug=f"q{run}{name}",
                name=name,
                share=share,
                quota_cpus=Decimal("6"),
                quota_memory_mib=65536,
                quota_storage_gib=1000,
                quota_sandboxes=5,
            )
            Membership.objects.create(user=self.user, tenant=tenant)
            self.tenants.append(tenant)
        self.names = itertools.count()
        self.ids: list[int] = []

    def _mine(self):
        return Sandbox.objects.filter(pk__in=self.ids)

    # --- users -------------------------------------------------------------------------------

    @initialize(preemptible=st.lists(st.booleans(), min_size=2 * HOST_CPUS, max_size=2 * HOST_CPUS))
    def a_fills_the_site(self, preemptible):
        """Every example starts full, of a's one-node sandboxes, so that launches queue at once."""
        for flag in preemptible:
            self.launch(tenant=0, workers=0, preemptible=flag)

    @rule(tenant=st.integers(0, 1), workers=st.integers(0, 1), preemptible=st.booleans())
    def launch(self, tenant, workers, preemptible):
        try:
            sandbox = sandbox_create(
                owner=self.user,
                tenant=self.tenants[tenant],
                name=f"s{next(self.names)}",
                catalog_item="cluster",
                flavor="small",
                nodes={"worker": workers},
                preemptible=preemptible and tenant == 0,
            )
        except (QuotaExceeded, NoCapacity):
            return
        self.ids.append(sandbox.pk)
        self.workers()

    @rule(data=st.data())
    def stop(self, data):
        """Stops a running sandbox, or takes a queued one out of the queue."""
        candidates = list(self._mine().filter(status__in=[S.RUNNING, S.QUEUED]))
        if candidates:
            sandbox_stop(sandbox=data.draw(st.sampled_from(candidates)), actor=self.user)
            self.workers()

    @rule(data=st.data())
    def start(self, data):
        """A stopped (or preempted) sandbox started again: it runs, or queues like a launch."""
        stopped = list(self._mine().filter(status=S.STOPPED))
        if stopped:
            with contextlib.suppress(QuotaExceeded, NoCapacity):
                sandbox_start(sandbox=data.draw(st.sampled_from(stopped)), actor=self.user)
            self.workers()

    @rule(data=st.data(), queued=st.booleans())
    def delete_or_cancel(self, data, queued):
        wanted = {S.QUEUED} if queued else {S.RUNNING, S.STOPPED, S.ERROR}
        candidates = list(self._mine().filter(status__in=wanted))
        if candidates:
            with contextlib.suppress(StateConflict):
                sandbox_delete(sandbox=data.draw(st.sampled_from(candidates)), actor=self.user)
            self.workers()

    # --- the site ----------------------------------------------------------------------------

    @rule(i=st.integers(0, 1))
    def host_down(self, i):
        self.engines[i].reachable = False
        host_inventory_refresh(host=self.hosts[i])

    @rule(i=st.integers(0, 1))
    def host_up(self, i):
        self.engines[i].reachable = True
        host_inventory_refresh(host=self.hosts[i])

    @rule()
    def workers(self):
        """Operations run to their end; as in the portal, one that ends triggers a pass."""
        ended = False
        for operation in Operation.objects.filter(sandbox__in=self.ids, status__in=["pending", "running"]):
            for _ in range(10):
                if operation_advance(operation_id=operation.pk).again_in is None:
                    ended = True
                    break
        if ended:
            self.admission_pass()

    @rule()
    def a_day_passes_for_the_oldest_queued(self):
        oldest = self._mine().filter(status=S.QUEUED).order_by("queued_at").first()
        if oldest is not None:
            Sandbox.objects.filter(pk=oldest.pk).update(queued_at=timezone.now() - timedelta(days=2))

    @rule()
    def admission_pass(self):
        order = [
            (sandbox, sandbox.nodes.exclude(status=NodeStatus.DELETED)) for sandbox, _ in queue_standings()
        ]
        overdue = timezone.now() - timedelta(seconds=86400)
        result = queue_admit_pass()
        admitted = set(result["admitted"])
        expired = set(result["expired"])
        for outcome in ("admitted", "expired", "preempted"):
            event(f"pass {outcome} some: {bool(result[outcome])}")
        if result["admitted"]:
            self.workers()
        assert all(s.queued_at < overdue for s, _ in order if s.pk in expired)
        live = [(s, list(nodes)) for s, nodes in order if s.pk not in expired]
        # Greedy in order, with backfill: one left waiting ahead of an admitted one must need
        # more of something; were it no bigger, it would have fit where the later one did.
        for i, (waiting, waiting_nodes) in enumerate(live):
            if waiting.pk in admitted:
                continue
            for later, later_nodes in live[i + 1 :]:
                if later.pk in admitted:
                    assert _bigger_somewhere(waiting_nodes, later_nodes), (
                        f"{later} admitted ahead of {waiting}"
                    )

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def no_host_over_capacity(self):
        for host in Host.objects.filter(pk__in=[h.pk for h in self.hosts]):  # as the inventory found it
            held = Node.objects.filter(host=host).exclude(status__in=[NodeStatus.STOPPED, NodeStatus.DELETED])
            assert (held.aggregate(c=Sum("cpus"))["c"] or 0) <= host.cpus

    @invariant()
    def no_tenant_over_quota(self):
        for tenant in self.tenants:
            usage, quota = tenant_usage(tenant=tenant), tenant_quota(tenant=tenant)
            assert all(getattr(usage, d) <= getattr(quota, d) for d in DIMENSIONS)

    @invariant()
    def queued_launches_hold_no_host_and_none_is_admitted_twice(self):
        # A queued start keeps its stopped containers' host; nothing queued holds room.
        assert not (
            Node.objects.filter(sandbox__status=S.QUEUED, host__isnull=False)
            .exclude(status__in=[NodeStatus.STOPPED, NodeStatus.DELETED])
            .exists()
        )
        creates = list(
            Operation.objects.filter(sandbox__in=self.ids, kind="create").values_list("sandbox", flat=True)
        )
        assert len(creates) == len(set(creates))

    def teardown(self):
        """Free the room: every launch still queued is then admitted (or had expired)."""
        for engine, host in zip(self.engines, self.hosts, strict=True):
            engine.reachable = True
            host_inventory_refresh(host=host)
        for _ in range(12):
            self.workers()
            queue_admit_pass()
            self.workers()
            if not self._mine().filter(status=S.QUEUED).exists():
                break
            for sandbox in self._mine().filter(status__in=[S.RUNNING, S.UNKNOWN, S.ERROR]):
                sandbox_delete(sandbox=sandbox, actor=self.user)
        assert not self._mine().filter(status=S.QUEUED).exists()


def _bigger_somewhere(nodes, others) -> bool:
    return sum(n.cpus for n in nodes) > sum(n.cpus for n in others) or sum(n.memory_mib for n in nodes) > sum(
        n.memory_mib for n in others
    )


@pytest.fixture
def _queue_site(settings, cluster_item):
    settings.CPU_OVERCOMMIT = "1"
    settings.QUEUE_MAX_WAIT_S = 86400


def test_queue_state_machine(_queue_site):
    run_state_machine_as_test(
        QueueMachine,
        settings=settings(
            max_examples=int(os.environ.get("PORTAL_STATEFUL_EXAMPLES", "10")),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
