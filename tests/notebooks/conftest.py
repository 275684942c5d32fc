"""A notebook catalog item on the fake engine, and people around one sandbox: its owner (ada, a
member of acme), a colleague without rights (bob), acme's admin (carol) and an outsider (mallory,
of another tenant)."""

import pytest

from catalog.models import CatalogItem
from provisioning.models import Sandbox
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create
from provisioning.tests.conftest import (  # noqa: F401 - the fake engine's fixtures
    cluster_item,
    cluster_manifest,
    engine,
    fake_host,
    member,
    small,
    tenant,
)
from tenants.models import Membership, Tenant, User


@pytest.fixture
def notebook_item(cluster_item):  # noqa: F811 - a fixture, imported above
    """The fake engine's cluster image, with a Jupyter service on its head node."""
    manifest = cluster_manifest(slug="notebook")
    manifest["roles"]["head"]["services"] = [
        {"name": "jupyter", "port": 8888, "protocol": "http", "path": "/lab", "main": True},
        {"name": "ssh", "port": 2222, "protocol": "tcp"},
    ]
    return CatalogItem.objects.create(
        slug="notebook",
        name="Notebook",
        version="1",
        category="notebook",
        default_flavor=cluster_item.default_flavor,
        manifest=manifest,
    )


def run(operation) -> None:
    for _ in range(20):
        if operation_advance(operation_id=operation.pk).again_in is None:
            return
    raise AssertionError("operation did not finish")


@pytest.fixture
def notebook(member, tenant, notebook_item, engine) -> Sandbox:  # noqa: F811 - fixtures
    """ada's running notebook sandbox."""
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name="secret-project", catalog_item="notebook", flavor="small"
    )
    run(sandbox.operations.get())
    sandbox.refresh_from_db()
    return sandbox


@pytest.fixture
def people(tenant):  # noqa: F811 - a fixture
    bob = User.objects.create_user(username="bob", password="unused")
    Membership.objects.create(user=bob, tenant=tenant, role=Membership.Role.MEMBER)
    carol = User.objects.create_user(username="carol", password="unused")
    Membership.objects.create(user=carol, tenant=tenant, role=Membership.Role.ADMIN)
    mallory = User.objects.create_user(username="mallory", password="unused")
    Membership.objects.create(user=mallory, tenant=Tenant.objects.create(slug="other", name="Other"))
    return {"bob": bob, "carol": carol, "mallory": mallory}
