"""How a sandbox gets its tenant's tracking server (provisioning.extensions, on fake engines):
its nodes have MLFLOW_TRACKING_URI and the credentials as a secret file, the server joins the
sandbox's network; another tenant's sandbox gets neither, and nor does one when tracking is not
ready. Deleting the sandbox removes its network even though the server joined it."""

import pytest

from provisioning.tests.lifecycle import create, run
from tenants.models import Membership
from tenants.tests.factories import TenantFactory, UserFactory
from tracking import naming
from tracking.models import TrackingServer
from tracking.states import TrackingStatus


@pytest.fixture
def tracking(tenant, fake_host, engine, cluster_item):
    """A ready tracking server of tenant acme on the fake host, its container running there."""
    tenant.tracking = True
    tenant.save(update_fields=["tracking"])
    server = TrackingServer.objects.create(
        tenant=tenant, host=fake_host, storage_gib=5, status=TrackingStatus.READY, ip="172.30.0.2"
    )
    engine.containers[naming.container_name(tenant.pk)] = {"spec": None, "running": True}
    return server


def test_nodes_get_the_uri_and_credentials_and_the_server_joins_the_network(member, tenant, tracking, engine):
    sandbox, operation = create(member, tenant)
    assert run(operation).status == "succeeded"
    for node in sandbox.nodes.all():
        spec = engine.containers[node.container_name]["spec"]
        assert spec.environment["MLFLOW_TRACKING_URI"] == "http://mlflow:8080/gateway/tracking/acme"
        credentials = spec.secret_files[naming.CREDENTIALS_FILE]
        assert f"mlflow_tracking_password = {tracking.password}" in credentials
        assert tracking.password not in str(spec.environment)
    joined = engine.containers[naming.container_name(tenant.pk)]["joined"]
    assert joined == {sandbox.network_name}


def test_another_tenants_sandbox_gets_nothing(tracking, engine, small, cluster_item):
    other = TenantFactory(slug="globex", quota_storage_gib=100)
    mallory = UserFactory(username="mallory")
    Membership.objects.create(user=mallory, tenant=other)
    sandbox, operation = create(mallory, other)
    assert run(operation).status == "succeeded"
    for node in sandbox.nodes.all():
        spec = engine.containers[node.container_name]["spec"]
        assert "MLFLOW_TRACKING_URI" not in spec.environment
        assert naming.CREDENTIALS_FILE not in spec.secret_files
    assert sandbox.network_name not in engine.containers[naming.container_name(tracking.tenant_id)].get(
        "joined", set()
    )


def test_a_server_not_ready_gives_nothing(member, tenant, tracking, engine):
    TrackingServer.objects.filter(pk=tracking.pk).update(status=TrackingStatus.STARTING)
    sandbox, operation = create(member, tenant)
    assert run(operation).status == "succeeded"
    spec = engine.containers[sandbox.nodes.first().container_name]["spec"]
    assert "MLFLOW_TRACKING_URI" not in spec.environment
