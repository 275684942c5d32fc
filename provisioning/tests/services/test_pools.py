"""The warm pool on the in-memory engine: refill, claim, adoption by the launch's worker, what
the reconciler and deletes make of a claimed container, lost pooled nodes, and no pooled node
handed out twice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import CatalogItem
from provisioning.containers import LABEL_PREFIX
from provisioning.drivers.base import SECRETS_DIR
from provisioning.errors import InvalidRequest
from provisioning.models import Node, PoolNode, PoolSetting, Sandbox
from provisioning.services.capacity import hosts_snapshot
from provisioning.services.jobs import job_advance, job_create
from provisioning.services.pools import POOL_MISS_NONE_READY, pool_default_ensure, pool_maintain, pool_set
from provisioning.services.reconciler import host_reconcile
from provisioning.services.sandboxes import sandbox_create, sandbox_delete
from provisioning.sshkeys import ssh_public_key
from provisioning.states import NodeStatus, PoolNodeStatus, SandboxStatus
from provisioning.tests.conftest import HEALTHCHECK
from provisioning.tests.doubles import JobProcesses, node_container
from provisioning.tests.factories import HostFactory
from provisioning.tests.lifecycle import run
from provisioning.tests.services.test_jobs import launches
from tenants.selectors.usage import tenant_usage

P = PoolNodeStatus


def notebook_manifest() -> dict:
    return {
        "slug": "notebook",
        "user": {"name": "scientist", "uid": 1000, "gid": 1000},
        "workspace": "/workspace",
        "capabilities": [],
        "environment": {"LANG": "C.UTF-8"},
        "roles": {
            "head": {
                "min_nodes": 1,
                "max_nodes": 1,
                "default_nodes": 1,
                "services": [{"name": "jupyter", "port": 8888, "protocol": "http", "path": "/lab"}],
                "healthcheck": HEALTHCHECK,
            }
        },
    }


@pytest.fixture
def notebook(db, small):
    return CatalogItem.objects.create(
        slug="notebook",
        name="Notebook",
        version="1",
        category="notebook",
        default_flavor=small,
        manifest=notebook_manifest(),
    )


@pytest.fixture
def site_admin(db):
    from tenants.tests.factories import UserFactory

    return UserFactory(username="root", is_site_admin=True)


def fill(host, *, passes=3):
    """The pool task's passes, back to back: start the missing nodes, then see them answer."""
    for _ in range(passes):
        if not pool_maintain(host_id=host.pk):
            return
    raise AssertionError("the pool did not settle")


@pytest.fixture
def pool(site_admin, notebook, small, fake_host, engine):
    pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=2)
    fill(fake_host)
    return PoolSetting.objects.get()


def launch(member, tenant, name="nb", **kwargs):
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name=name, catalog_item="notebook", flavor="small", **kwargs
    )
    return sandbox, sandbox.operations.get()


def test_a_pool_fills_with_tenantless_hardened_nodes_that_hold_host_room(pool, engine, fake_host):
    ready = list(PoolNode.objects.filter(status=P.READY))
    assert len(ready) == 2
    for pool_node in ready:
        container = engine.containers[pool_node.container_name]
        spec = container["spec"]
        assert container["running"]
        assert spec.labels == {f"{LABEL_PREFIX}.pool": str(pool_node.pk)}  # no tenant, no sandbox
        assert not {"SANDBOX_ID", "SANDBOX_NAME", "SANDBOX_SSH_AUTHORIZED_KEY"} & set(spec.environment)
        assert spec.environment["JUPYTER_BASE_URL"] == f"/gateway/{pool_node.gateway_key}/jupyter/"
        assert container["secret_files"] == {"jupyter_token": (pool_node.secret, "1000:1000")}
        assert spec.network == pool_node.network_name  # its own: pooled nodes never meet
        assert spec.mounts[0].source == pool_node.workspace_volume
        assert engine.volumes[pool_node.workspace_volume]["size_gib"] == 10
    assert len({p.secret for p in ready}) == 2
    (snapshot,) = hosts_snapshot(lock=False, host_ids=[fake_host.pk])
    assert snapshot.used_cpus == Decimal("2") and snapshot.used_memory_mib == 2 * 2048


def test_a_launch_claims_a_pooled_node_and_its_worker_adopts_it(pool, member, tenant, engine, fake_host):
    first = PoolNode.objects.filter(status=P.READY).order_by("ready_at", "pk").first()
    sandbox, operation = launch(member, tenant)

    first.refresh_from_db()
    node = sandbox.nodes.get()
    assert first.status == P.CLAIMED and first.node == node
    assert node.host == fake_host and node.gateway_key == first.gateway_key
    assert sandbox.secret == first.secret and sandbox.workspace_volume == first.workspace_volume
    assert tenant_usage(tenant=tenant).cpus == Decimal("1")  # from the claim, the tenant's
    pool.refresh_from_db()
    assert (pool.hits, pool.misses) == (1, 0)
    (snapshot,) = hosts_snapshot(lock=False, host_ids=[fake_host.pk])
    assert snapshot.used_cpus == Decimal("2")  # the node took the pooled node's room over

    assert run(operation).status == "succeeded"
    first.refresh_from_db()
    assert first.status == P.ADOPTED
    name = node_container(sandbox, "head-0")
    assert first.container_name not in engine.containers
    container = engine.containers[name]
    assert container["networks"] == {sandbox.network_name: "head-0"}  # left the pool's network
    # ...which the pool's next pass removes, not the launch (the engine takes its time).
    assert first.network_name in engine.networks
    pool_maintain(host_id=fake_host.pk)
    assert first.network_name not in engine.networks
    assert {p.network_name for p in PoolNode.objects.filter(status__in=[P.READY, P.STARTING])} <= set(
        engine.networks
    )
    files = container["secret_files"]
    assert files["jupyter_token"][0] == sandbox.secret
    assert files["ssh_private_key"][0] == Sandbox.objects.get(pk=sandbox.pk).ssh_private_key
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.RUNNING
    assert node.__class__.objects.get(pk=node.pk).status == NodeStatus.RUNNING

    # The refill the claim asked for waits until the claimer's JupyterLab had the host...
    fill(fake_host)
    assert PoolNode.objects.filter(status__in=[P.READY, P.STARTING]).count() == 1
    # ...then comes.
    PoolNode.objects.filter(pk=first.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.POOL_REFILL_AFTER_S)
    )
    fill(fake_host)
    assert PoolNode.objects.filter(status=P.READY).count() == 2


def test_an_adopted_node_gets_ssh_set_up_as_a_cold_one(pool, member, tenant, engine):
    """What the image's entrypoint does at start from the environment (authorized key, private
    key, the variables of SSH sessions) is done again in the claimed node, as its user, with the
    node's own environment: the sandbox's key, id and name instead of the pooled node's."""
    sandbox, operation = launch(member, tenant)
    run(operation)
    sandbox.refresh_from_db()
    name = node_container(sandbox, "head-0")
    (settle,) = [e for e in engine.execs.values() if e["container"] == name]
    assert settle["command"][:2] == ["bash", "-c"] and settle["command"][-1] == SECRETS_DIR
    assert "authorized_keys" in settle["command"][2] and ".ssh/environment" in settle["command"][2]
    assert settle["user"] == "1000:1000"
    env = settle["environment"]
    assert env["SANDBOX_ID"] == str(sandbox.pk) and env["SANDBOX_NAME"] == "nb"
    assert env["SANDBOX_NODE"] == "head-0"
    assert env["SANDBOX_SSH_AUTHORIZED_KEY"] == ssh_public_key(
        sandbox.ssh_private_key, comment=f"sandbox-{sandbox.pk}"
    )
    # Run after the secrets are there: the private key it copies is the sandbox's.
    assert engine.containers[name]["secret_files"]["ssh_private_key"][0] == sandbox.ssh_private_key


def test_a_job_in_an_adopted_node_knows_its_sandbox(pool, member, tenant, engine):
    """The container's environment is the pooled node's; a job's own says whose node it is."""
    sandbox, operation = launch(member, tenant)
    run(operation)
    JobProcesses(engine)
    job = job_create(sandbox=Sandbox.objects.get(pk=sandbox.pk), actor=member, command="env")
    job_advance(job_id=job.pk)
    env = launches(engine)["head-0"]["environment"]
    assert (env["SANDBOX_ID"], env["SANDBOX_NAME"], env["SANDBOX_NODE"]) == (str(sandbox.pk), "nb", "head-0")
    assert "SANDBOX_ID" not in engine.containers[node_container(sandbox, "head-0")]["spec"].environment


def test_an_adoption_whose_ssh_setup_fails_fails_the_launch_and_leaves_nothing(pool, member, tenant, engine):
    """A node whose SSH is not the sandbox's is not handed over silently: the launch fails with
    the reason, as a cold start that the engine refuses does, and its container goes."""
    sandbox, operation = launch(member, tenant)
    engine.exec_responder = lambda record: (1, "mv: cannot move: No space left on device\n")
    assert run(operation).status == "failed"
    assert "setting up SSH" in operation.explanation and "No space left" in operation.explanation
    assert node_container(sandbox, "head-0") not in engine.containers
    assert tenant_usage(tenant=tenant).cpus == 0


def test_the_reconciler_takes_an_adopted_container_for_its_node(pool, member, tenant, engine, fake_host):
    sandbox, operation = launch(member, tenant)
    run(operation)
    name = node_container(sandbox, "head-0")
    (adopted,) = PoolNode.objects.filter(status=P.ADOPTED)
    drift = host_reconcile(host=fake_host)
    # Only the network the node left (the reconciler came before the pool's pass, which would
    # have removed it): the pool's nodes and the pooled workspace stay.
    assert drift["orphans_removed"] == 1 and adopted.network_name not in engine.networks
    assert name in engine.containers and sandbox.workspace_volume in engine.volumes
    assert all(p.container_name in engine.containers for p in PoolNode.objects.filter(status=P.READY))

    engine.stop(name=name)  # its labels say "pool" (on Docker): its name says whose node it is
    drift = host_reconcile(host=fake_host)
    assert drift["restarted"] == 1 and engine.containers[name]["running"]


def test_deleting_a_claimed_sandbox_leaves_nothing_behind(pool, member, tenant, engine, fake_host):
    sandbox, operation = launch(member, tenant)
    run(operation)
    run(sandbox_delete(sandbox=sandbox, actor=member))
    pool_maintain(host_id=fake_host.pk)  # the pass the claim asked for: the network the node left
    pooled = {p.container_name for p in PoolNode.objects.filter(status=P.READY)}
    assert set(engine.containers) == pooled
    assert engine.networks == {p.network_name for p in PoolNode.objects.filter(status=P.READY)}
    assert set(engine.volumes) == {p.workspace_volume for p in PoolNode.objects.filter(status=P.READY)}
    assert tenant_usage(tenant=tenant).cpus == 0


def test_a_claim_whose_sandbox_goes_before_adoption_is_cleaned_up(pool, member, tenant, engine, fake_host):
    sandbox, _operation = launch(member, tenant)
    claimed = PoolNode.objects.get(status=P.CLAIMED)
    run(sandbox_delete(sandbox=sandbox, actor=member))  # supersedes the create before any step
    assert claimed.container_name in engine.containers  # never renamed: still the pool's
    fill(fake_host)
    claimed.refresh_from_db()
    assert claimed.status == P.REMOVED
    assert claimed.container_name not in engine.containers and claimed.network_name not in engine.networks
    assert claimed.workspace_volume not in engine.volumes


def test_a_lost_pooled_node_is_replaced_and_never_claimed(pool, member, tenant, engine, fake_host):
    lost, kept = PoolNode.objects.filter(status=P.READY).order_by("ready_at", "pk")
    engine.remove(name=lost.container_name)  # by hand
    engine.stop(name=kept.container_name)  # an engine restart stops what it ran
    fill(fake_host)
    lost.refresh_from_db()
    kept.refresh_from_db()
    assert lost.status == P.REMOVED and kept.status == P.REMOVED
    assert "gone" in lost.explanation and "stopped" in kept.explanation
    assert kept.container_name not in engine.containers and lost.workspace_volume not in engine.volumes
    fresh = list(PoolNode.objects.filter(status=P.READY))
    assert len(fresh) == 2

    sandbox, operation = launch(member, tenant)
    assert sandbox.nodes.get().pooled_from in fresh


def test_a_node_lost_between_claim_and_adoption_starts_cold(pool, member, tenant, engine, fake_host):
    sandbox, operation = launch(member, tenant)
    claimed = PoolNode.objects.get(status=P.CLAIMED)
    engine.remove(name=claimed.container_name)
    assert run(operation).status == "succeeded"
    claimed.refresh_from_db()
    assert claimed.status == P.REMOVED
    container = engine.containers[node_container(sandbox, "head-0")]
    assert container["spec"].labels[f"{LABEL_PREFIX}.sandbox"] == str(sandbox.pk)  # a cold one
    assert container["secret_files"]["jupyter_token"][0] == claimed.secret  # the token it was given


def test_launches_a_pool_cannot_serve_take_the_cold_path(pool, member, tenant, cluster_item, engine):
    cluster = sandbox_create(owner=member, tenant=tenant, name="c", catalog_item="cluster", flavor="small")
    assert cluster.pooled_workspace == "" and not PoolNode.objects.filter(status=P.CLAIMED).exists()
    HostFactory(name="fake-zone-b", labels={"zone": "b"})
    elsewhere, _operation = launch(member, tenant, name="b", host_labels={"zone": "b"})
    assert elsewhere.pooled_workspace == "" and elsewhere.nodes.get().host.name == "fake-zone-b"
    assert not PoolNode.objects.filter(status=P.CLAIMED).exists()
    pool.refresh_from_db()
    assert (pool.hits, pool.misses) == (0, 1)  # a notebook the pool could not serve: a miss
    assert pool.miss_reasons == {POOL_MISS_NONE_READY: 1}


def test_a_pool_with_none_ready_counts_a_miss(site_admin, notebook, member, tenant, fake_host, engine):
    pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=1)  # none started yet
    sandbox, _operation = launch(member, tenant)
    assert sandbox.pooled_workspace == ""
    setting = PoolSetting.objects.get()
    assert (setting.misses, setting.miss_reasons) == (1, {POOL_MISS_NONE_READY: 1})


def test_a_tenant_with_tracking_on_starts_cold_and_counts_a_miss_with_its_reason(
    pool, member, tenant, engine, fake_host
):
    """Its nodes get MLFLOW_TRACKING_URI in their environment when they are created, which a
    pooled node, started before any tenant, can never be given."""
    tenant.tracking = True
    tenant.save(update_fields=["tracking"])
    sandbox, operation = launch(member, tenant)
    assert sandbox.pooled_workspace == "" and not PoolNode.objects.filter(node__sandbox=sandbox).exists()
    assert PoolNode.objects.filter(status=P.READY).count() == 2  # none taken
    pool.refresh_from_db()
    assert (pool.hits, pool.misses, pool.miss_reasons) == (0, 1, {"tracking": 1})

    assert run(operation).status == "succeeded"
    container = engine.containers[node_container(sandbox, "head-0")]
    assert container["spec"].labels[f"{LABEL_PREFIX}.sandbox"] == str(sandbox.pk)  # a cold one

    tenant.tracking = False
    tenant.save(update_fields=["tracking"])
    other, _operation = launch(member, tenant, name="nb2")
    assert PoolNode.objects.get(node__sandbox=other).status == P.CLAIMED
    pool.refresh_from_db()
    assert (pool.hits, pool.misses, pool.miss_reasons) == (1, 1, {"tracking": 1})


def test_a_smaller_pool_removes_its_extra_nodes(pool, site_admin, engine, fake_host):
    pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=0)
    fill(fake_host)
    assert not PoolNode.objects.filter(status__in=[P.READY, P.STARTING]).exists()
    assert engine.containers == {} and engine.volumes == {} and engine.networks == set()


def test_pool_settings_are_checked(site_admin, notebook, cluster_item, small):
    with pytest.raises(InvalidRequest) as refused:
        pool_set(actor=site_admin, catalog_item="cluster", flavor="small", size=1)
    assert "catalog_item" in refused.value.fields
    for size in (-1, 65, "2", True):
        with pytest.raises(InvalidRequest):
            pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=size)
    with pytest.raises(InvalidRequest):
        pool_set(actor=site_admin, catalog_item="notebook", flavor="huge", size=1)
    assert not PoolSetting.objects.exists()


def test_a_full_host_keeps_no_more_pooled_nodes_than_fit(site_admin, notebook, fake_host, engine, settings):
    settings.CPU_OVERCOMMIT = "1"  # 4 cores: 4 one-core nodes
    Node.objects.all().delete()
    pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=6)
    fill(fake_host)
    assert PoolNode.objects.filter(status=P.READY).count() == 4


def test_site_admins_set_and_read_pools_through_the_api(site_admin, member, notebook, fake_host, engine):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(member)
    assert client.get("/api/v1/pools/").status_code == 403
    assert (
        client.post("/api/v1/pools/", {"catalog_item": "notebook", "flavor": "small", "size": 1}).status_code
        == 403
    )
    client.force_authenticate(site_admin)
    answer = client.post(
        "/api/v1/pools/", {"catalog_item": "notebook", "flavor": "small", "size": 1}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["size"] == 1
    assert (
        client.post("/api/v1/pools/", {"catalog_item": "notebook", "flavor": "small", "size": -1}).status_code
        == 400
    )
    fill(fake_host)
    (body,) = client.get("/api/v1/pools/").json()
    assert body == {
        "id": PoolSetting.objects.get().pk,
        "catalog_item": "notebook",
        "flavor": "small",
        "size": 1,
        "ready": 1,
        "starting": 0,
        "hits": 0,
        "misses": 0,
        "miss_reasons": {},
        "hosts": {"fake-1": {"ready": 1}},
    }


def test_the_hosts_page_and_metrics_show_the_pool(pool, site_admin, member, tenant, client):
    launch(member, tenant)
    tenant.tracking = True
    tenant.save(update_fields=["tracking"])
    launch(member, tenant, name="tracked")
    client.force_login(site_admin)
    page = client.get("/hosts/").content.decode()
    assert "Warm pool" in page and "fake-1: 1 ready" in page
    answer = client.post("/hosts/pools/", {"catalog_item": "notebook", "flavor": "small", "size": "3"})
    assert answer.status_code == 302 and PoolSetting.objects.get().size == 3
    metrics = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'portal_pool_hits_total{catalog_item="notebook",flavor="small"} 1.0' in metrics
    assert (
        'portal_pool_nodes{catalog_item="notebook",flavor="small",host="fake-1",status="ready"} 1.0'
        in metrics
    )
    assert 'portal_pool_size{catalog_item="notebook",flavor="small"} 3.0' in metrics
    assert 'portal_pool_misses_total{catalog_item="notebook",flavor="small",reason="tracking"} 1.0' in metrics
    assert "1 tenant&#x27;s tracking on" in page


def test_a_new_site_keeps_its_default_pool_unless_an_admin_chose(site_admin, notebook, settings):
    settings.DEFAULT_POOL = "notebook=1"
    setting = pool_default_ensure()
    assert (setting.catalog_item, setting.flavor, setting.size) == (notebook, notebook.default_flavor, 1)
    pool_set(actor=site_admin, catalog_item="notebook", flavor="small", size=0)
    assert pool_default_ensure() is None and PoolSetting.objects.get().size == 0


def test_an_adoption_cut_short_is_completed_by_the_retry(pool, member, tenant, engine):
    """A worker killed right after renaming the container: the retry adopts it by its new name
    and finishes (leaves the pool's network, for the pool's pass to remove, and writes the
    secrets)."""
    sandbox, operation = launch(member, tenant)
    claimed = PoolNode.objects.get(status=P.CLAIMED)
    name = node_container(sandbox, "head-0")
    engine.ensure_network(name=sandbox.network_name, labels={})
    engine.network_join(name=claimed.container_name, network=sandbox.network_name, alias="head-0")
    engine.rename(name=claimed.container_name, new_name=name)

    assert run(operation).status == "succeeded"
    claimed.refresh_from_db()
    assert claimed.status == P.ADOPTED
    assert engine.containers[name]["networks"] == {sandbox.network_name: "head-0"}
    assert "ssh_private_key" in engine.containers[name]["secret_files"]
    pool_maintain(host_id=claimed.host_id)
    assert claimed.network_name not in engine.networks


def test_pools_give_their_room_to_queued_launches(pool, member, tenant, engine, fake_host):
    Sandbox.objects.filter(pk=launch(member, tenant)[0].pk).update(status=SandboxStatus.QUEUED)
    fill(fake_host)
    assert not PoolNode.objects.filter(status__in=[P.READY, P.STARTING]).exists()
    (snapshot,) = hosts_snapshot(lock=False, host_ids=[fake_host.pk])
    assert snapshot.used_cpus == Decimal("1")  # the claimed node alone
