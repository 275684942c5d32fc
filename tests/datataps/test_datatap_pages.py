"""The DataTap pages: what members, tenant admins and site admins see and may do."""

from django.urls import reverse

from provisioning.models import DataTap, HostPathPrefix
from provisioning.services.datataps import datatap_create
from provisioning.services.sandboxes import sandbox_create
from tenants.models import Tenant


def as_user(client, user):
    client.force_login(user)
    return client


def test_members_see_their_tenants_datataps_only(client, tenant, member, tenant_admin, shared):
    datatap_create(actor=tenant_admin, tenant=tenant, name="imagenet", kind="hostpath", path=str(shared))
    other = Tenant.objects.create(slug="other", name="Other")
    datatap_create(actor=tenant_admin, tenant=other, name="hidden-tap", kind="hostpath", path=str(shared))

    page = as_user(client, member).get(reverse("datatap-list")).content.decode()
    assert "imagenet" in page
    assert "/data/imagenet" in page
    assert "hidden-tap" not in page
    assert reverse("datatap-create") not in page
    assert "Delete imagenet" not in page
    assert client.get(reverse("datatap-create")).status_code == 403


def test_tenant_admin_adds_and_deletes(client, tenant, tenant_admin, shared):
    client = as_user(client, tenant_admin)
    assert reverse("datatap-create") in client.get(reverse("datatap-list")).content.decode()
    refused = client.post(
        reverse("datatap-create"), {"tenant": "acme", "name": "etc", "kind": "hostpath", "path": "/etc"}
    )
    assert refused.status_code == 200
    assert "/etc is a system path that can never be allowed." in refused.content.decode()
    assert not DataTap.objects.exists()

    added = client.post(
        reverse("datatap-create"),
        {"tenant": "acme", "name": "scratch", "kind": "hostpath", "path": str(shared)},
        follow=True,
    )
    assert "DataTap scratch added to acme." in added.content.decode()
    datatap = DataTap.objects.get()
    assert (datatap.path, datatap.read_only) == (str(shared), False)  # the box was left unticked

    deleted = client.post(reverse("datatap-delete", args=[datatap.pk]), follow=True)
    assert "DataTap scratch deleted." in deleted.content.decode()
    assert not DataTap.objects.exists()


def test_deleting_one_in_use_names_the_sandboxes(
    client, tenant, member, tenant_admin, cluster_item, fake_host, shared
):
    datatap = datatap_create(
        actor=tenant_admin, tenant=tenant, name="corpus", kind="hostpath", path=str(shared)
    )
    sandbox_create(
        owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small", datataps=["corpus"]
    )
    page = as_user(client, tenant_admin).post(reverse("datatap-delete", args=[datatap.pk]), follow=True)
    assert "DataTap &#x27;corpus&#x27; is used by sandbox exp; delete it first." in page.content.decode()
    assert DataTap.objects.filter(pk=datatap.pk).exists()


def test_another_tenants_datatap_cannot_be_deleted(client, tenant, tenant_admin, shared):
    other = Tenant.objects.create(slug="other", name="Other")
    foreign = datatap_create(
        actor=tenant_admin, tenant=other, name="theirs", kind="hostpath", path=str(shared)
    )
    assert as_user(client, tenant_admin).post(reverse("datatap-delete", args=[foreign.pk])).status_code == 404
    assert DataTap.objects.filter(pk=foreign.pk).exists()


def test_site_admins_keep_the_allowlist(client, site_admin, tenant_admin):
    assert as_user(client, tenant_admin).get(reverse("datatap-prefix-list")).status_code == 403
    client = as_user(client, site_admin)
    refused = client.post(reverse("datatap-prefix-list"), {"path": "/var/run"})
    assert (
        "/var/run contains /var/run/docker.sock, a system path that can never be allowed."
        in refused.content.decode()
    )
    assert not HostPathPrefix.objects.exists()
    client.post(reverse("datatap-prefix-list"), {"path": "/srv/shared"})
    prefix = HostPathPrefix.objects.get()
    assert "/srv/shared" in client.get(reverse("datatap-prefix-list")).content.decode()
    client.post(reverse("datatap-prefix-delete", args=[prefix.pk]))
    assert not HostPathPrefix.objects.exists()
