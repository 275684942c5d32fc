"""The launch queue against the fake engine: queueing, admission, cancel, expiry, fair share."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from provisioning.errors import NoCapacity
from provisioning.models import Operation, OperationStatus, Sandbox, SandboxStatus
from provisioning.queue_selectors import queue_standings
from provisioning.services.admission import queue_admit_pass
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create, sandbox_delete, sandbox_start, sandbox_stop
from tenants.models import Allocation, AuditEvent, Membership, Tenant, User
from tenants.resources import QuotaExceeded
from tenants.selectors.usage import tenant_usage


@pytest.fixture(autouse=True)
def _no_overcommit(settings):
    settings.CPU_OVERCOMMIT = "1"  # the fake host's 4 cores take four one-core sandboxes


def run(operation, limit=20):
    for _ in range(limit):
        if operation_advance(operation_id=operation.pk).again_in is None:
            operation.refresh_from_db()
            return operation
    raise AssertionError("operation did not finish")


def launch(member, tenant, name, **kwargs):
    args = {"catalog_item": "cluster", "flavor": "small", "nodes": {"worker": 0}}
    return sandbox_create(owner=member, tenant=tenant, name=name, **{**args, **kwargs})


def fill(member, tenant, engine, count=4):
    sandboxes = [launch(member, tenant, f"run-{i}") for i in range(count)]
    for sandbox in sandboxes:
        run(sandbox.operations.get())
    return sandboxes


def test_a_launch_that_fits_the_quota_but_no_host_is_queued_with_its_quota_reserved(
    member, tenant, cluster_item, engine
):
    fill(member, tenant, engine)

    queued = launch(member, tenant, "waits")

    assert queued.status == SandboxStatus.QUEUED
    assert not queued.operations.exists()
    assert not queued.nodes.filter(host__isnull=False).exists()
    assert tenant_usage(tenant=tenant).sandboxes == 5
    assert Allocation.objects.filter(group=queued.ledger_group, attributes__queued=True).count() == 2


def test_over_quota_is_still_refused_at_once(member, tenant, cluster_item, engine):
    fill(member, tenant, engine)
    launch(member, tenant, "waits")

    with pytest.raises(QuotaExceeded, match="sandboxes"):
        launch(member, tenant, "one-too-many")


def test_a_launch_no_host_could_ever_take_is_refused(member, tenant, cluster_item, engine):
    with pytest.raises(NoCapacity, match="No ready host has the labels zone=mars"):
        launch(member, tenant, "nowhere", host_labels={"zone": "mars"})


def test_deleting_a_running_sandbox_admits_the_queued_one(member, tenant, cluster_item, engine):
    running = fill(member, tenant, engine)
    queued = launch(member, tenant, "waits")
    assert queue_admit_pass() == {"admitted": [], "expired": [], "preempted": []}

    run(sandbox_delete(sandbox=running[0], actor=member))
    result = queue_admit_pass()

    assert result["admitted"] == [queued.pk]
    queued.refresh_from_db()
    assert queued.status == SandboxStatus.PENDING
    run(queued.operations.get(kind=Operation.Kind.CREATE))
    queued.refresh_from_db()
    assert queued.status == SandboxStatus.RUNNING
    # The reservation was held while queued, and counts as use from admission on.
    intervals = Allocation.objects.filter(subject=queued.ledger_group).order_by("started")
    assert [bool(a.attributes.get("queued")) for a in intervals] == [True, False]
    assert intervals[0].ended == intervals[1].started
    assert AuditEvent.objects.filter(action="sandbox.admit", object_id=str(queued.pk)).exists()


def test_cancel_while_queued_releases_the_reservation(member, tenant, cluster_item, engine):
    fill(member, tenant, engine)
    queued = launch(member, tenant, "waits")

    operation = sandbox_delete(sandbox=queued, actor=member)

    queued.refresh_from_db()
    assert queued.status == SandboxStatus.DELETED
    assert operation.status == OperationStatus.SUCCEEDED
    assert tenant_usage(tenant=tenant).sandboxes == 4
    assert queue_admit_pass() == {"admitted": [], "expired": [], "preempted": []}


def test_a_launch_queued_too_long_ends_in_error_and_releases_its_reservation(
    member, tenant, cluster_item, engine, settings
):
    fill(member, tenant, engine)
    queued = launch(member, tenant, "waits")
    settings.QUEUE_MAX_WAIT_S = 3600
    type(queued).objects.filter(pk=queued.pk).update(queued_at=timezone.now() - timedelta(hours=2))

    assert queue_admit_pass()["expired"] == [queued.pk]

    queued.refresh_from_db()
    assert queued.status == SandboxStatus.ERROR
    assert "Waited 1 hours in the queue and no host had room for it" in queued.explanation
    assert tenant_usage(tenant=tenant).sandboxes == 4
    assert sandbox_delete(sandbox=queued, actor=member).status == OperationStatus.SUCCEEDED


def test_while_others_wait_a_new_launch_queues_behind_them(member, tenant, cluster_item, engine):
    running = fill(member, tenant, engine, count=3)
    big = launch(member, tenant, "big", nodes={"worker": 1})  # 2 cores: 1 free

    small = launch(member, tenant, "small")

    assert (big.status, small.status) == (SandboxStatus.QUEUED, SandboxStatus.QUEUED)
    # The pass backfills: the big one does not fit, the small one behind it does.
    assert queue_admit_pass()["admitted"] == [small.pk]
    run(sandbox_delete(sandbox=running[0], actor=member))
    assert queue_admit_pass()["admitted"] == []
    run(sandbox_delete(sandbox=running[1], actor=member))
    assert queue_admit_pass()["admitted"] == [big.pk]


def test_fair_share_puts_the_tenant_that_used_less_first(member, tenant, cluster_item, engine):
    other = Tenant.objects.create(slug="other", name="Other", quota_cpus=Decimal("8"), quota_sandboxes=5)
    Membership.objects.create(user=member, tenant=other)
    running = fill(member, tenant, engine)
    # acme has been using the site for an hour; other has not used it at all.
    Allocation.objects.filter(tenant=tenant).update(started=timezone.now() - timedelta(hours=1))
    first = launch(member, tenant, "acme-first")
    second = launch(member, other, "other-later")

    standings = queue_standings()
    assert [s.pk for s, _ in standings] == [second.pk, first.pk]
    assert standings[0][1].factor == 1.0 and standings[1][1].factor < 1.0
    assert "1 launch(es) of other tenants go first" in standings[1][1].reason

    run(sandbox_delete(sandbox=running[0], actor=member))
    assert queue_admit_pass()["admitted"] == [second.pk]


def test_share_weighs_in_the_factor(member, tenant, cluster_item, engine):
    other = Tenant.objects.create(slug="other", name="Other", share=3)
    Membership.objects.create(user=member, tenant=other)
    fill(member, tenant, engine, count=2)
    sandboxes = [launch(member, other, f"o-{i}") for i in range(2)]
    for sandbox in sandboxes:
        run(sandbox.operations.get())
    Allocation.objects.update(started=timezone.now() - timedelta(hours=1))
    mine = launch(member, tenant, "acme-q")
    theirs = launch(member, other, "other-q")

    # The same use, three times the share: other goes first although it came later.
    assert [s.pk for s, _ in queue_standings()] == [theirs.pk, mine.pk]


def test_api_and_page_show_position_reason_and_estimate(member, tenant, cluster_item, engine, client):
    fill(member, tenant, engine)
    queued = launch(member, tenant, "waits")
    api = APIClient()
    api.force_authenticate(member)

    body = api.get(f"/api/v1/sandboxes/{queued.pk}/").json()

    assert body["status"] == "queued"
    assert body["queue"]["position"] == 1
    assert body["queue"]["estimated_wait_s"] is None  # nothing of its size has finished yet
    # The only tenant using the site uses exactly its share: 2 ** -(1/1).
    assert "fair-share factor is 0.50" in body["queue"]["reason"]
    assert api.get(f"/api/v1/sandboxes/{queued.pk - 1}/").json()["queue"] is None
    client.force_login(member)
    page = client.get(f"/sandboxes/{queued.pk}/").content.decode()
    assert 'Queued: position <span id="queue-position">1</span> of 1.' in page
    assert "Estimated wait: unknown" in page
    assert "Cancel launch" in page


def test_estimate_comes_from_finished_sandboxes_of_the_same_size(member, tenant, cluster_item, engine):
    running = fill(member, tenant, engine)
    run(sandbox_delete(sandbox=running[0], actor=member))
    Sandbox.objects.filter(pk=running[0].pk).update(created=timezone.now() - timedelta(hours=1))
    refill = launch(member, tenant, "refill")
    run(refill.operations.get())

    queued = launch(member, tenant, "waits")

    (standing,) = [s for sandbox, s in queue_standings() if sandbox.pk == queued.pk]
    # Typical life one hour; the running ones started just now: about an hour to go.
    assert 3500 < standing.estimated_wait_s <= 3600


def test_preemption_stops_the_youngest_preemptible_sandbox_of_a_tenant_over_its_share(
    member, tenant, cluster_item, engine
):
    other = Tenant.objects.create(slug="other", name="Other", quota_cpus=Decimal("8"), quota_sandboxes=5)
    Membership.objects.create(user=member, tenant=other)
    older = launch(member, tenant, "older", preemptible=True)
    kept = launch(member, tenant, "kept")
    younger = launch(member, tenant, "younger", preemptible=True)
    fourth = launch(member, tenant, "fourth")
    for sandbox in (older, kept, younger, fourth):
        run(sandbox.operations.get())
    Allocation.objects.filter(tenant=tenant).update(started=timezone.now() - timedelta(hours=1))
    needy = launch(member, other, "needy")

    result = queue_admit_pass()

    assert result["preempted"] == [younger.pk]
    younger.refresh_from_db()
    assert younger.status == SandboxStatus.STOPPING
    assert "to make room for a launch of another tenant" in younger.preemption
    event = AuditEvent.objects.get(action="sandbox.preempt")
    assert event.detail == {"for_sandbox": needy.pk, "for_tenant": "other"}
    assert queue_admit_pass()["preempted"] == []  # not twice while it stops
    run(younger.operations.get(kind=Operation.Kind.STOP))
    assert queue_admit_pass()["admitted"] == [needy.pk]
    younger.refresh_from_db()
    assert younger.status == SandboxStatus.STOPPED and "another tenant" in younger.preemption


def test_nothing_is_preempted_for_a_tenant_over_its_share(member, tenant, cluster_item, engine):
    for sandbox in [launch(member, tenant, f"p{i}", preemptible=True) for i in range(4)]:
        run(sandbox.operations.get())
    launch(member, tenant, "mine-too")

    assert queue_admit_pass()["preempted"] == []


def test_metrics_count_the_queue_its_waits_and_admissions(member, tenant, cluster_item, engine, client):
    fill(member, tenant, engine, count=3)
    launch(member, tenant, "big", nodes={"worker": 1})  # waits: 2 cores, 1 free
    first = launch(member, tenant, "first")
    assert queue_admit_pass()["admitted"] == [first.pk]

    text = client.get("/metrics").content.decode()

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("portal_queue_length", (("tenant", "acme"),))] == 1
    assert samples[("portal_queue_wait_seconds_count", ())] == 1
    assert samples[("portal_queue_admissions_total", ())] == 1
    assert samples[("portal_queue_preemptions_total", ())] == 0


def test_site_admins_see_the_whole_queue_with_each_factor(member, tenant, cluster_item, engine, client):
    fill(member, tenant, engine)
    launch(member, tenant, "waits", host_labels={})
    admin = User.objects.create_user(username="root", password="unused", is_site_admin=True)

    client.force_login(member)
    assert client.get("/queue/").status_code == 403
    client.force_login(admin)
    page = client.get("/queue/").content.decode()

    assert "Hosts: any host" in page
    assert ">waits</a>" in page
    assert '<td class="queue-factor">0.500</td>' in page


def test_a_start_with_no_room_waits_in_the_queue_and_is_admitted_when_room_frees(
    member, tenant, cluster_item, engine
):
    stopped, *others = fill(member, tenant, engine)
    run(sandbox_stop(sandbox=stopped, actor=member))
    blocker = launch(member, tenant, "blocker")
    run(blocker.operations.get())

    start = sandbox_start(sandbox=stopped, actor=member)

    stopped.refresh_from_db()
    assert stopped.status == SandboxStatus.QUEUED
    assert start.kind == Operation.Kind.START and start.status == OperationStatus.PENDING
    # The worker leaves a waiting start alone (the reconciler re-enqueues stale operations).
    assert operation_advance(operation_id=start.pk).again_in is None
    start.refresh_from_db()
    assert start.status == OperationStatus.PENDING
    assert queue_admit_pass()["admitted"] == []

    run(sandbox_delete(sandbox=blocker, actor=member))
    assert queue_admit_pass()["admitted"] == [stopped.pk]

    stopped.refresh_from_db()
    assert stopped.status == SandboxStatus.STARTING
    assert not stopped.operations.filter(kind=Operation.Kind.CREATE, status=OperationStatus.PENDING).exists()
    run(start)
    stopped.refresh_from_db()
    assert (start.status, stopped.status) == (OperationStatus.SUCCEEDED, SandboxStatus.RUNNING)
    assert set(stopped.nodes.values_list("status", flat=True)) == {"running"}


def test_stopping_a_queued_start_takes_it_out_of_the_queue_and_keeps_it(member, tenant, cluster_item, engine):
    stopped, *_ = fill(member, tenant, engine)
    run(sandbox_stop(sandbox=stopped, actor=member))
    launch(member, tenant, "blocker")
    before = tenant_usage(tenant=tenant)
    start = sandbox_start(sandbox=stopped, actor=member)
    assert tenant_usage(tenant=tenant).cpus > before.cpus

    left = sandbox_stop(sandbox=stopped, actor=member)

    stopped.refresh_from_db()
    start.refresh_from_db()
    assert stopped.status == SandboxStatus.STOPPED
    assert left.status == OperationStatus.SUCCEEDED
    assert start.status == OperationStatus.CANCELLED
    assert tenant_usage(tenant=tenant) == before
    assert set(stopped.nodes.values_list("status", flat=True)) == {"stopped"}
    # Its stopped container is still there, to start again.
    assert stopped.nodes.filter(host__isnull=False).exists()


def test_deleting_a_queued_start_removes_its_containers(member, tenant, cluster_item, engine):
    stopped, *_ = fill(member, tenant, engine)
    run(sandbox_stop(sandbox=stopped, actor=member))
    launch(member, tenant, "blocker")
    sandbox_start(sandbox=stopped, actor=member)

    delete = sandbox_delete(sandbox=stopped, actor=member)

    assert delete.status == OperationStatus.PENDING  # a worker removes the stopped containers
    run(delete)
    stopped.refresh_from_db()
    assert stopped.status == SandboxStatus.DELETED
    assert not {n.container_name for n in stopped.nodes.all()} & set(engine.containers)


def test_a_start_queued_too_long_ends_stopped_not_in_error(member, tenant, cluster_item, engine, settings):
    stopped, *_ = fill(member, tenant, engine)
    run(sandbox_stop(sandbox=stopped, actor=member))
    launch(member, tenant, "blocker")
    before = tenant_usage(tenant=tenant)
    sandbox_start(sandbox=stopped, actor=member)
    settings.QUEUE_MAX_WAIT_S = 3600
    Sandbox.objects.filter(pk=stopped.pk).update(queued_at=timezone.now() - timedelta(hours=2))

    assert queue_admit_pass()["expired"] == [stopped.pk]

    stopped.refresh_from_db()
    assert stopped.status == SandboxStatus.STOPPED
    assert "waited 1 hours in the queue" in stopped.explanation
    assert tenant_usage(tenant=tenant) == before
