"""List pages cost the same number of queries for a few objects as for a full page of them:
no query per row (N+1)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from provisioning.models import Node, NodeStatus, Sandbox, SandboxStatus
from provisioning.tests.factories import HostFactory, NodeFactory, SandboxFactory
from tenants.services.audit import audit_record
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.catalog.factories import CatalogItemFactory

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_sandboxes(count, *, member, tenant, item, flavor, host, start=0):
    for i in range(start, start + count):
        sandbox = SandboxFactory(
            tenant=tenant,
            owner=member,
            name=f"box-{i}",
            catalog_item=item,
            flavor=flavor,
            status=SandboxStatus.RUNNING,
        )
        for role, index in (("head", 0), ("worker", 0), ("worker", 1)):
            NodeFactory(sandbox=sandbox, role=role, index=index, host=host, status=NodeStatus.RUNNING)


@pytest.mark.parametrize("url", ["sandbox-list", "dashboard"])
def test_sandbox_lists(client, member, tenant, cluster_item, small, fake_host, url):
    client.force_login(member)
    args = {"member": member, "tenant": tenant, "item": cluster_item, "flavor": small, "host": fake_host}
    add_sandboxes(2, **args)
    few = queries(client, reverse(url))

    add_sandboxes(28, start=2, **args)
    many = queries(client, reverse(url))

    assert many == few


def test_host_list(client, site_admin, tenant, member, cluster_item, small):
    client.force_login(site_admin)
    args = {"member": member, "tenant": tenant, "item": cluster_item, "flavor": small}
    for i in range(2):
        add_sandboxes(1, host=HostFactory(name=f"h{i}"), start=i, **args)
    few = queries(client, reverse("host-list"))

    for i in range(2, 25):
        add_sandboxes(1, host=HostFactory(name=f"h{i}"), start=i, **args)
    many = queries(client, reverse("host-list"))

    assert many == few


def test_host_list_counts_what_nodes_hold(client, site_admin, tenant, member, cluster_item, small, fake_host):
    add_sandboxes(1, member=member, tenant=tenant, item=cluster_item, flavor=small, host=fake_host)
    Node.objects.filter(role="worker", index=1).update(status=NodeStatus.STOPPED)
    client.force_login(site_admin)

    host = client.get(reverse("host-list")).context["hosts"][0]

    assert (host.used_cpus, host.used_memory_mib, host.node_count) == (Decimal("2"), 4096, 2)


def test_tenant_list(client, site_admin):
    client.force_login(site_admin)
    for i in range(2):
        TenantFactory(slug=f"t{i}")
    few = queries(client, reverse("tenants:list"))

    for i in range(2, 30):
        TenantFactory(slug=f"t{i}")
    many = queries(client, reverse("tenants:list"))

    assert many == few


def test_tenant_members(client, tenant, tenant_admin):
    client.force_login(tenant_admin)
    for i in range(2):
        MembershipFactory(user=UserFactory(username=f"u{i}"), tenant=tenant)
    few = queries(client, reverse("tenants:detail", args=[tenant.slug]))

    for i in range(2, 30):
        MembershipFactory(user=UserFactory(username=f"u{i}"), tenant=tenant)
    many = queries(client, reverse("tenants:detail", args=[tenant.slug]))

    assert many == few


def test_audit_log(client, site_admin, tenant):
    client.force_login(site_admin)
    for _ in range(3):
        audit_record(actor=site_admin, action="test.event", tenant=tenant, target=tenant)
    few = queries(client, reverse("tenants:audit"))

    for _ in range(60):
        audit_record(actor=site_admin, action="test.event", tenant=tenant, target=tenant)
    many = queries(client, reverse("tenants:audit"))

    assert many == few


def test_app_store(client, member):
    client.force_login(member)
    for i in range(2):
        CatalogItemFactory(slug=f"app-{i}")
    few = queries(client, reverse("catalog:list"))

    for i in range(2, 20):
        CatalogItemFactory(slug=f"app-{i}")
    many = queries(client, reverse("catalog:list"))

    assert many == few


def test_lists_paginate(client, member, tenant, cluster_item, small, fake_host):
    add_sandboxes(25, member=member, tenant=tenant, item=cluster_item, flavor=small, host=fake_host)
    client.force_login(member)

    first = client.get(reverse("sandbox-list")).context["page_obj"]
    second = client.get(reverse("sandbox-list"), {"page": 2}).context["page_obj"]

    assert (len(first.object_list), len(second.object_list)) == (20, 5)
    assert first.paginator.count == 25


def test_sandbox_detail_does_not_query_per_node(client, member, tenant, cluster_item, small, fake_host):
    args = {"member": member, "tenant": tenant, "item": cluster_item, "flavor": small, "host": fake_host}
    add_sandboxes(2, **args)
    small_box, big_box = Sandbox.objects.order_by("pk")
    for index in range(2, 12):
        NodeFactory(
            sandbox=big_box,
            role="worker",
            index=index,
            host=fake_host,
            status=NodeStatus.RUNNING,
            ip=f"10.0.0.{index}",
        )
    client.force_login(member)

    assert queries(client, reverse("sandbox-detail", args=[big_box.pk])) == queries(
        client, reverse("sandbox-detail", args=[small_box.pk])
    )


@pytest.mark.parametrize("viewer", ["colleague", "tenant_admin"])
def test_sandbox_api_list_of_others_sandboxes(
    client, member, tenant, tenant_admin, cluster_item, small, fake_host, viewer
):
    """`actions` depends on the caller's rights over each sandbox: they come with the rows."""
    caller = tenant_admin if viewer == "tenant_admin" else UserFactory()
    if viewer == "colleague":
        MembershipFactory(user=caller, tenant=tenant)
    client.force_login(caller)
    args = {"member": member, "tenant": tenant, "item": cluster_item, "flavor": small, "host": fake_host}
    add_sandboxes(2, **args)
    few = queries(client, "/api/v1/sandboxes/")

    add_sandboxes(18, start=2, **args)
    many = queries(client, "/api/v1/sandboxes/")

    assert many == few
    actions = {tuple(s["actions"]) for s in client.get("/api/v1/sandboxes/").json()["results"]}
    assert actions == ({("stop", "resize", "delete")} if viewer == "tenant_admin" else {()})
