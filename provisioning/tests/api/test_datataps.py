"""The DataTap API: who may see, create, mount and delete which DataTap, and the allowlist."""

import pytest
from rest_framework.test import APIClient

from provisioning.models import DataTap, HostPathPrefix
from provisioning.services.datataps import datatap_create, hostpath_prefix_add
from tenants.models import Membership
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root-admin", is_site_admin=True)


@pytest.fixture
def shared(tmp_path, site_admin):
    hostpath_prefix_add(actor=site_admin, path=str(tmp_path))
    return tmp_path


@pytest.fixture
def tenant_admin(tenant):
    user = UserFactory(username="alan")
    MembershipFactory(user=user, tenant=tenant, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def rival(db, shared):
    """Another tenant with its admin and a DataTap of its own."""
    tenant = TenantFactory(slug="rival", name="Rival", quota_sandboxes=5, quota_storage_gib=100)
    admin = UserFactory(username="eve")
    MembershipFactory(user=admin, tenant=tenant, role=Membership.Role.ADMIN)
    datatap = datatap_create(actor=admin, tenant=tenant, name="secret", kind="hostpath", path=str(shared))
    return tenant, admin, datatap


def test_tenant_admin_creates_and_members_see(tenant, tenant_admin, member, shared, rival):
    created = client_for(tenant_admin).post(
        "/api/v1/datataps/",
        {"tenant": "acme", "name": "imagenet", "kind": "hostpath", "path": str(shared), "read_only": False},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {
        k: body[k] for k in ("tenant", "name", "kind", "path", "read_only", "mount_path", "sandboxes")
    } == {
        "tenant": "acme",
        "name": "imagenet",
        "kind": "hostpath",
        "path": str(shared),
        "read_only": False,
        "mount_path": "/data/imagenet",
        "sandboxes": [],
    }
    listed = client_for(member).get("/api/v1/datataps/").json()
    assert [(d["tenant"], d["name"]) for d in listed["results"]] == [("acme", "imagenet")]
    assert client_for(member).get(f"/api/v1/datataps/{body['id']}/").json()["name"] == "imagenet"


def test_members_may_not_create_or_delete(tenant, member, tenant_admin, shared):
    refused = client_for(member).post(
        "/api/v1/datataps/",
        {"tenant": "acme", "name": "x", "kind": "hostpath", "path": str(shared)},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    datatap = datatap_create(actor=tenant_admin, tenant=tenant, name="x", kind="hostpath", path=str(shared))
    assert client_for(member).delete(f"/api/v1/datataps/{datatap.pk}/").status_code == 403
    assert DataTap.objects.filter(pk=datatap.pk).exists()


def test_another_tenants_datatap_answers_404(tenant, tenant_admin, rival, shared):
    _rival_tenant, _rival_admin, secret = rival
    admin = client_for(tenant_admin)
    assert admin.get("/api/v1/datataps/").json()["results"] == []
    for response in (
        admin.get(f"/api/v1/datataps/{secret.pk}/"),
        admin.delete(f"/api/v1/datataps/{secret.pk}/"),
        admin.get("/api/v1/datataps/999999/"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    # Creating in a tenant one does not belong to is the same 404 as a tenant that does not exist.
    foreign = admin.post(
        "/api/v1/datataps/",
        {"tenant": "rival", "name": "x", "kind": "hostpath", "path": str(shared)},
        format="json",
    )
    assert foreign.status_code == 404
    assert DataTap.objects.filter(pk=secret.pk).exists()


def test_sandboxes_mount_only_their_tenants_datataps(tenant, member, cluster_item, engine, shared, rival):
    datatap_create(actor=member, tenant=tenant, name="mine", kind="hostpath", path=str(shared))
    client = client_for(member)
    request = {
        "tenant": "acme",
        "name": "exp",
        "catalog_item": "cluster",
        "flavor": "small",
        "nodes": {"worker": 0},
    }

    foreign = client.post("/api/v1/sandboxes/", {**request, "datataps": ["mine", "secret"]}, format="json")
    assert foreign.status_code == 404
    assert foreign.json() == {
        "detail": "No DataTap 'secret' in tenant 'acme'.",
        "code": "not_found",
        "datataps": ["No DataTap 'secret' in tenant 'acme'."],
    }
    assert not tenant.sandboxes.exists()

    created = client.post("/api/v1/sandboxes/", {**request, "datataps": ["mine"]}, format="json")
    assert created.status_code == 202, created.json()
    assert created.json()["datataps"] == ["mine"]


def test_deleting_a_datatap_in_use_answers_409_with_the_sandboxes(
    tenant, tenant_admin, cluster_item, engine, shared
):
    datatap = datatap_create(
        actor=tenant_admin, tenant=tenant, name="mine", kind="hostpath", path=str(shared)
    )
    client = client_for(tenant_admin)
    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "acme", "name": "exp", "catalog_item": "cluster", "flavor": "small", "datataps": ["mine"]},
        format="json",
    )
    assert created.status_code == 202, created.json()
    assert client.get(f"/api/v1/datataps/{datatap.pk}/").json()["sandboxes"] == ["exp"]

    refused = client.delete(f"/api/v1/datataps/{datatap.pk}/")
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "DataTap 'mine' is used by sandbox exp; delete it first.",
        "code": "in_use",
        "sandboxes": ["exp"],
    }
    assert DataTap.objects.filter(pk=datatap.pk).exists()


def test_bad_datatap_input_is_a_field_error(tenant, tenant_admin, shared):
    client = client_for(tenant_admin)
    for body, field in [
        ({"kind": "hostpath"}, "path"),
        ({"kind": "nfs", "server": "nfs.example.org"}, "export"),
        ({"kind": "hostpath", "path": "/etc"}, "path"),
        ({"kind": "hostpath", "path": "/srv/not-allowed"}, "path"),
        ({"kind": "nfs", "server": "a.b", "export": "/x", "options": "soft,addr=10.0.0.9"}, "options"),
        ({"kind": "ceph", "path": str(shared)}, "kind"),
    ]:
        response = client.post("/api/v1/datataps/", {"tenant": "acme", "name": "x", **body}, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"
        assert field in response.json(), response.json()
    assert not DataTap.objects.exists()


def test_only_site_admins_manage_the_allowlist(tenant_admin, site_admin, tmp_path):
    assert client_for(tenant_admin).get("/api/v1/datatap-prefixes/").status_code == 403
    assert client_for(tenant_admin).post("/api/v1/datatap-prefixes/", {"path": "/srv"}).status_code == 403
    admin = client_for(site_admin)
    refused = admin.post("/api/v1/datatap-prefixes/", {"path": "/var"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["path"] == [
        "/var contains /var/run/docker.sock, a system path that can never be allowed."
    ]
    created = admin.post("/api/v1/datatap-prefixes/", {"path": "/srv/shared/"}, format="json")
    assert created.status_code == 201
    assert created.json()["path"] == "/srv/shared"
    assert [p["path"] for p in admin.get("/api/v1/datatap-prefixes/").json()["results"]] == ["/srv/shared"]
    assert (
        client_for(tenant_admin).delete(f"/api/v1/datatap-prefixes/{created.json()['id']}/").status_code
        == 403
    )
    assert admin.delete(f"/api/v1/datatap-prefixes/{created.json()['id']}/").status_code == 204
    assert not HostPathPrefix.objects.exists()
