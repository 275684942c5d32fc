"""A small world with one object of every kind a page shows, in the database only."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from catalog.models import CatalogItem, Flavor, ImageBuild
from provisioning.models import DataTap, Host, HostPathPrefix, Job, Node, Operation, Sandbox, SandboxStatus
from provisioning.tests.conftest import cluster_manifest
from tenants.models import Membership
from tenants.services.tokens import token_create
from tenants.tests.factories import TenantFactory, UserFactory
from tests.provisioning.conftest import docker_client, published, team  # noqa: F401 - fixtures


@pytest.fixture
def world(db):
    tenant = TenantFactory(
        slug="lab", quota_cpus=Decimal("8"), quota_memory_mib=16384, quota_storage_gib=100, quota_sandboxes=5
    )
    root = UserFactory(username="root", is_site_admin=True, is_staff=True, is_superuser=True)
    member = UserFactory(username="grace")
    Membership.objects.create(user=member, tenant=tenant, role=Membership.Role.ADMIN)
    small, _ = Flavor.objects.update_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 2048, "gpus": 0, "disk_gib": 10}
    )
    item = CatalogItem.objects.create(
        slug="cluster",
        name="Cluster",
        version="1",
        category="training",
        default_flavor=small,
        manifest=cluster_manifest(),
    )
    build = ImageBuild.objects.create(
        slug="cluster", version="2", manifest=cluster_manifest(), dockerfile="FROM scratch"
    )
    host = Host.objects.create(name="fake-1", url="fake://fake-1", cpus=4, memory_mib=65536)
    prefix = HostPathPrefix.objects.create(path="/srv/shared")
    datatap = DataTap.objects.create(tenant=tenant, name="corpus", kind="hostpath", path="/srv/shared/c")
    sandbox = Sandbox.objects.create(
        tenant=tenant,
        owner=member,
        name="exp",
        catalog_item=item,
        flavor=small,
        status=SandboxStatus.RUNNING,
    )
    Node.objects.create(
        sandbox=sandbox, role="head", index=0, host=host, cpus=1, memory_mib=2048, status="running"
    )
    operation = Operation.objects.create(sandbox=sandbox, kind="create", status="succeeded")
    job = Job.objects.create(sandbox=sandbox, command="hostname", target="all", master_port=29500)
    token, _key = token_create(user=root, name="ci")
    return SimpleNamespace(
        tenant=tenant,
        root=root,
        member=member,
        flavor=small,
        item=item,
        build=build,
        host=host,
        prefix=prefix,
        datatap=datatap,
        sandbox=sandbox,
        operation=operation,
        job=job,
        token=token,
    )
