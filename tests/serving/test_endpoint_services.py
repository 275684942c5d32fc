"""Endpoints without an engine: what a create holds (quota, host room, placement across hosts),
what bad input and a full quota change (nothing), keys, the gateway's answers, and the route
file nginx reads."""

from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Flavor
from provisioning.services.capacity import hosts_snapshot
from provisioning.tests.conftest import fake_host, member, tenant  # noqa: F401 - fixtures
from provisioning.tests.factories import HostFactory
from serving.models import Endpoint, Replica
from serving.selectors import serving_owns_name
from serving.services.endpoints import endpoint_create, endpoint_delete, endpoint_update
from serving.services.keys import endpoint_key_create, endpoint_key_revoke
from serving.services.reconcile import replica_counters_parse
from serving.services.routes import NO_REPLICA, route_file, route_write
from serving.states import ENDPOINT_TRANSITIONS, EndpointAction, EndpointStatus, ReplicaStatus
from tenants.models import Allocation, Membership, Tenant, User
from tenants.resources import QuotaExceeded
from tenants.selectors.usage import tenant_usage

SECRET = "secret-of-the-endpoint-tests"  # noqa: S105 - a test value

pytestmark = pytest.mark.django_db


@pytest.fixture
def serve_flavor(db):
    return Flavor.objects.create(name="serve", cpus=Decimal("1"), memory_mib=1024, gpus=0, disk_gib=1)


@pytest.fixture
def two_hosts(fake_host):  # noqa: F811
    return [fake_host, HostFactory(name="fake-2")]


def create(member, tenant, **kwargs):  # noqa: F811
    args = {"name": "line", "model_name": "line", "model_version": "1", "min_replicas": 2, "max_replicas": 3}
    return endpoint_create(owner=member, tenant=tenant, flavor="serve", **{**args, **kwargs})


def test_create_holds_quota_and_host_room_and_spreads_replicas(member, tenant, two_hosts, serve_flavor):  # noqa: F811
    endpoint = create(member, tenant)
    replicas = list(endpoint.replicas.all())
    assert endpoint.status == EndpointStatus.PENDING and endpoint.desired_replicas == 2
    assert {r.host.name for r in replicas} == {"fake-1", "fake-2"}
    usage = tenant_usage(tenant=tenant)
    assert (usage.cpus, usage.memory_mib, usage.sandboxes) == (Decimal("2"), 2048, 0)
    held = {h.name: h.used_memory_mib for h in hosts_snapshot(lock=False)}
    assert held == {"fake-1": 1024, "fake-2": 1024}


def test_min_zero_still_starts_one_replica(member, tenant, fake_host, serve_flavor):  # noqa: F811
    endpoint = create(member, tenant, min_replicas=0, max_replicas=2)
    assert endpoint.replicas.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_replicas": 3, "max_replicas": 2}, "replicas"),
        ({"max_replicas": 0, "min_replicas": 0}, "replicas"),
        ({"name": "Not A Slug"}, "name"),
        ({"model_version": " "}, "model"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(member, tenant, fake_host, serve_flavor, change, field):  # noqa: F811
    with pytest.raises(Exception) as refused:
        create(member, tenant, **change)
    assert field in refused.value.fields
    assert not Endpoint.objects.exists() and not Allocation.objects.exists()


def test_over_quota_is_refused_and_holds_nothing(member, tenant, fake_host, serve_flavor):  # noqa: F811
    Tenant.objects.filter(pk=tenant.pk).update(quota_memory_mib=1500)
    with pytest.raises(QuotaExceeded) as refused:
        create(member, tenant)
    assert refused.value.dimension == "memory_mib"
    assert not Endpoint.objects.exists() and not Replica.objects.exists() and not Allocation.objects.exists()


def test_update_goes_through_updating_and_is_refused_while_busy(member, tenant, fake_host, serve_flavor):  # noqa: F811
    endpoint = create(member, tenant, min_replicas=1, max_replicas=1)
    with pytest.raises(Exception) as busy:
        endpoint_update(endpoint=endpoint, actor=member, model_version="2")
    assert busy.value.status == 409  # pending: the first deploy is under way
    Endpoint.objects.filter(pk=endpoint.pk).update(status=EndpointStatus.READY)
    updated = endpoint_update(endpoint=endpoint, actor=member, model_version="2")
    assert updated.status == ENDPOINT_TRANSITIONS[EndpointAction.UPDATE].through
    assert updated.model_version == "2"


def test_delete_revokes_keys_at_once(member, tenant, fake_host, serve_flavor):  # noqa: F811
    endpoint = create(member, tenant, min_replicas=1, max_replicas=1)
    key_row, _key = endpoint_key_create(endpoint=endpoint, actor=member, name="app")
    endpoint_delete(endpoint=endpoint, actor=member)
    key_row.refresh_from_db()
    assert key_row.revoked is not None
    assert set(endpoint.replicas.values_list("status", flat=True)) == {ReplicaStatus.DRAINING}


def ask(uri: str, authorization: str = "", secret: str = SECRET):
    return Client().get(
        "/gateway/endpoint-auth",
        HTTP_X_ORIGINAL_URI=uri,
        HTTP_X_ENDPOINT_AUTHORIZATION=authorization,
        HTTP_X_GATEWAY_SECRET=secret,
    )


def test_gateway_answers(member, tenant, fake_host, serve_flavor, settings):  # noqa: F811
    settings.GATEWAY_SECRET = SECRET
    endpoint = create(member, tenant, min_replicas=1, max_replicas=1)
    Replica.objects.filter(endpoint=endpoint).update(status=ReplicaStatus.READY, ip="10.0.0.7")
    _row, key = endpoint_key_create(endpoint=endpoint, actor=member, name="app")
    other_tenant = Tenant.objects.create(slug="other", name="Other", quota_cpus=4, quota_memory_mib=4096)
    mallory = User.objects.create_user(username="mallory", password="unused")
    Membership.objects.create(user=mallory, tenant=other_tenant)
    other = create(mallory, other_tenant, name="theirs", min_replicas=1, max_replicas=1)
    _other_row, other_key = endpoint_key_create(endpoint=other, actor=mallory, name="x")

    passed = ask("/endpoints/acme/line/v2/models/line/infer", f"Bearer {key}")
    assert passed.status_code == 200 and passed["X-Endpoint-Upstream"] == endpoint.upstream_name
    assert ask("/endpoints/acme/line/v2/models/line/infer").status_code == 401
    assert ask("/endpoints/acme/line/v2/models/line/infer", f"Bearer {other_key}").status_code == 401
    assert ask("/endpoints/acme/line/x", f"Token {key}").status_code == 401
    missing = ask("/endpoints/acme/nosuch/x", f"Bearer {key}")
    assert missing.status_code == 403 and missing["X-Gateway-Status"] == "404"
    assert ask("/endpoints/acme/line/x", f"Bearer {key}", secret="wrong-secret-of-someone").status_code == 404
    endpoint_key_revoke(key=_row, actor=member)
    assert ask("/endpoints/acme/line/x", f"Bearer {key}").status_code == 401


def test_route_lists_ready_replicas_only(member, tenant, two_hosts, serve_flavor, settings, tmp_path):  # noqa: F811
    settings.GATEWAY_RUN_DIR = tmp_path
    endpoint = create(member, tenant)
    assert route_write(endpoint=endpoint) == []
    assert NO_REPLICA in route_file(endpoint).read_text()
    first, second = endpoint.replicas.order_by("pk")
    Replica.objects.filter(pk=first.pk).update(status=ReplicaStatus.READY, ip="10.0.0.7")
    Replica.objects.filter(pk=second.pk).update(status=ReplicaStatus.STARTING, ip="10.0.0.8")
    assert route_write(endpoint=endpoint) == ["10.0.0.7:8080"]
    text = route_file(endpoint).read_text()
    assert f"upstream {endpoint.upstream_name} {{" in text and "10.0.0.8" not in text


def test_serving_names_are_left_to_serving(settings):
    settings.SITE = "t4"
    assert serving_owns_name("t4-ep12-r3") and serving_owns_name("t4-ep12-net")
    assert not serving_owns_name("t4-sbx12-head-0")


# Lines as MLServer prints them.
MLSERVER_METRICS = """
# TYPE rest_server_requests_total counter
rest_server_requests_total{app_name="mlserver",method="GET",path="/v2/models/{model_name}/ready",status_code="200"} 7.0
rest_server_requests_total{app_name="mlserver",method="POST",path="/v2/models/{model_name}/infer",status_code="200"} 40.0
rest_server_requests_total{app_name="mlserver",method="POST",path="/v2/models/{model_name}/infer",status_code="422"} 2.0
rest_server_request_duration_seconds_bucket{app_name="mlserver",le="0.005",method="POST",path="/v2/models/{model_name}/infer",status_code="200"} 30.0
rest_server_request_duration_seconds_bucket{app_name="mlserver",le="+Inf",method="POST",path="/v2/models/{model_name}/infer",status_code="200"} 40.0
rest_server_request_duration_seconds_sum{app_name="mlserver",method="POST",path="/v2/models/{model_name}/infer",status_code="200"} 0.25
"""  # noqa: E501


def test_replica_counters_are_read_from_mlserver_metrics():
    counters = replica_counters_parse(MLSERVER_METRICS)
    assert counters == {
        "requests": 42,
        "errors": 2,
        "latency_sum_s": 0.25,
        "buckets": {"0.005": 30, "+Inf": 40},
    }
