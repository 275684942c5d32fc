"""Lists page, filter and order the same way: django-filter parameters, `ordering=`, and a bad
filter value is a 400 in the error format."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning.models import DataTap, Host, Operation, Sandbox, SandboxStatus
from provisioning.services.sandboxes import sandbox_create


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_sandboxes_filter_by_status_owner_item_tenant_and_time_and_order(world):
    second = sandbox_create(
        owner=world.member, tenant=world.acme, name="bobs-box", catalog_item=world.item.slug, flavor="small"
    )
    Sandbox.objects.filter(pk=world.sandbox.pk).update(
        status=SandboxStatus.RUNNING, created=timezone.now() - timedelta(days=2)
    )
    client = world.client("member")
    assert _names(client.get("/api/v1/sandboxes/?ordering=created")) == ["acme-box", "bobs-box"]
    assert _names(client.get("/api/v1/sandboxes/?ordering=-created")) == ["bobs-box", "acme-box"]
    assert _names(client.get("/api/v1/sandboxes/?status=running")) == ["acme-box"]
    assert _names(client.get("/api/v1/sandboxes/?status=running&status=pending&ordering=name")) == [
        "acme-box",
        "bobs-box",
    ]
    assert _names(client.get("/api/v1/sandboxes/?owner=bob")) == ["bobs-box"]
    assert _names(client.get("/api/v1/sandboxes/?catalog_item=notebook&tenant=acme&ordering=name")) == [
        "acme-box",
        "bobs-box",
    ]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _names(client.get("/api/v1/sandboxes/", {"created_after": since})) == [second.name]
    assert _names(client.get("/api/v1/sandboxes/", {"created_before": since})) == ["acme-box"]


def test_filtering_by_several_statuses_lists_each_row_once_without_distinct(world):
    """A status is a column of the row itself: the listing de-duplicates nothing (DISTINCT over
    whole rows made every polled ?status= listing cost the database a sort)."""
    sandbox_create(
        owner=world.member, tenant=world.acme, name="bobs-box", catalog_item=world.item.slug, flavor="small"
    )
    client = world.client("site_admin")
    urls = (
        "/api/v1/sandboxes/?status=pending&status=running&status=error",
        f"/api/v1/sandboxes/{world.sandbox.pk}/operations/?status=pending&status=running&kind=create&kind=delete",
        "/api/v1/hosts/?state=ready&state=draining",
    )
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"]], url
    assert sorted(_names(client.get(urls[0]))) == ["acme-box", "bobs-box"]


def test_a_bad_filter_value_is_a_400(world):
    client = world.client("member")
    for query in ("status=bogus", "created_after=yesterday", "created_after=0001-01-01T00:00:00%2B05:00"):
        response = client.get(f"/api/v1/sandboxes/?{query}")
        assert response.status_code == 400, query
        assert response.json()["code"] == "invalid"


def test_far_time_zone_offsets_are_read_as_utc(world):
    """Python parses offsets up to ±24 h, PostgreSQL only to ±15:59: the filter converts."""
    response = world.client("member").get("/api/v1/sandboxes/?created_before=2999-01-01T00:00:00%2B16:56")
    assert _names(response) == ["acme-box"]


def test_operations_filter_by_kind_and_status(world):
    client = world.client("member")
    url = f"/api/v1/sandboxes/{world.sandbox.pk}/operations/"
    assert [op["kind"] for op in client.get(f"{url}?kind=create").json()["results"]] == ["create"]
    assert client.get(f"{url}?kind=delete").json()["count"] == 0
    Operation.objects.filter(sandbox=world.sandbox).update(status="failed")
    assert client.get(f"{url}?status=failed&ordering=-created").json()["count"] == 1


def test_datataps_filter_by_tenant_kind_and_creator(world):
    DataTap.objects.create(
        tenant=world.acme,
        name="nfs-tap",
        kind=DataTap.Kind.NFS,
        server="nas",
        export="/x",
        created_by=world.member,
    )
    client = world.client("member")
    assert _names(client.get("/api/v1/datataps/?ordering=name")) == ["acme-tap", "nfs-tap"]
    assert _names(client.get("/api/v1/datataps/?kind=nfs")) == ["nfs-tap"]
    assert _names(client.get("/api/v1/datataps/?created_by=alice")) == ["acme-tap"]
    assert _names(client.get("/api/v1/datataps/?tenant=globex")) == []


def test_hosts_filter_by_state(world):
    Host.objects.create(name="fake-2", url="fake://fake-2", state=Host.State.DRAINING)
    client = world.client("site_admin")
    assert _names(client.get("/api/v1/hosts/?state=draining")) == ["fake-2"]
    assert _names(client.get("/api/v1/hosts/?ordering=-name")) == ["fake-2", "fake-1"]


def test_lists_page(world):
    client = world.client("site_admin")
    body = client.get("/api/v1/tenants/?page=1").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert client.get("/api/v1/tenants/?page=9").status_code == 404
