"""DataTaps against the fake engine: the allowlist, validation, mounts on every node, the NFS
volumes each host gets, and what deleting a DataTap in use does."""

import pytest

from provisioning.drivers import Mount
from provisioning.errors import InUse, InvalidRequest, NotFound
from provisioning.models import DataTap, Host, OperationStatus, SandboxStatus
from provisioning.services.datataps import (
    datatap_create,
    datatap_delete,
    hostpath_prefix_add,
    hostpath_prefix_remove,
    nfs_options_clean,
    path_forbidden_reason,
)
from provisioning.services.sandboxes import sandbox_create, sandbox_delete, sandbox_start, sandbox_stop
from provisioning.tests.doubles import fake_engine
from provisioning.tests.factories import HostFactory
from provisioning.tests.lifecycle import run
from tenants.models import AuditEvent, Membership
from tenants.resources import QuotaExceeded
from tenants.selectors.usage import tenant_usage
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def site_admin(db):
    return UserFactory(username="root-admin", is_site_admin=True)


@pytest.fixture
def shared(tmp_path, site_admin):
    """A directory under an allowed prefix, as a site would have its NFS or Lustre mounted."""
    root = tmp_path / "shared"
    (root / "imagenet").mkdir(parents=True)
    hostpath_prefix_add(actor=site_admin, path=str(root))
    return root


def hostpath(tenant, actor, name="imagenet", path=None, read_only=True):
    return datatap_create(
        actor=actor, tenant=tenant, name=name, kind="hostpath", path=path, read_only=read_only
    )


def nfs(tenant, actor, name="corpus", options="soft,timeo=10", read_only=True):
    return datatap_create(
        actor=actor,
        tenant=tenant,
        name=name,
        kind="nfs",
        server="nfs.example.org",
        export="/exports/corpus",
        options=options,
        read_only=read_only,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/etc",
        "/etc/ssl",
        "/proc/1",
        "/sys",
        "/dev",
        "/boot",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/usr/local/share",
        "/var",  # holds the engine's state and its socket
        "/var/lib",
        "/var/lib/docker/volumes",
        "/var/lib/postgresql",  # the portal's own database
        "/var/log",
        "/var/run",
        "/var/run/docker.sock",
        "/run",
        "/root/data",
    ],
)
def test_system_paths_can_never_be_allowed(site_admin, path):
    with pytest.raises(InvalidRequest) as refused:
        hostpath_prefix_add(actor=site_admin, path=path)
    assert "can never be allowed" in str(refused.value)
    assert path_forbidden_reason(path) is not None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("data", "absolute path"),
        ("/srv/../etc", "`..`"),
        ("/srv/data;rm", "Use only letters"),
        ("/srv/da,ta", "Use only letters"),
    ],
)
def test_prefixes_must_be_plain_absolute_paths(site_admin, path, message):
    with pytest.raises(InvalidRequest) as refused:
        hostpath_prefix_add(actor=site_admin, path=path)
    assert message in str(refused.value)


def test_a_registered_engine_socket_can_never_be_allowed(site_admin):
    HostFactory(name="other", url="unix:///srv/engines/other.sock")
    with pytest.raises(InvalidRequest, match="contains /srv/engines/other.sock"):
        hostpath_prefix_add(actor=site_admin, path="/srv/engines")
    assert hostpath_prefix_add(actor=site_admin, path="/srv/data").path == "/srv/data"


def test_the_portals_own_files_can_never_be_allowed(site_admin, settings):
    with pytest.raises(InvalidRequest, match="can never be allowed"):
        hostpath_prefix_add(actor=site_admin, path=str(settings.BASE_DIR / "var"))
    with pytest.raises(InvalidRequest, match=f"contains {settings.BASE_DIR}"):
        hostpath_prefix_add(actor=site_admin, path=str(settings.BASE_DIR.parent))


def test_prefixes_are_normalised_and_unique(site_admin):
    assert hostpath_prefix_add(actor=site_admin, path="//srv/./data/").path == "/srv/data"
    with pytest.raises(InvalidRequest, match="already allowed"):
        hostpath_prefix_add(actor=site_admin, path="/srv/data")
    assert AuditEvent.objects.filter(action="datatap_prefix.add").count() == 1


def test_hostpath_must_lie_under_an_allowed_prefix(tenant, member, shared, tmp_path):
    datatap = hostpath(tenant, member, path=f"{shared}/imagenet/")
    assert (datatap.path, datatap.read_only, datatap.mount_target) == (
        f"{shared}/imagenet",
        True,
        "/data/imagenet",
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(InvalidRequest, match="not under a host path prefix the site allows"):
        hostpath(tenant, member, name="other", path=str(outside))
    # A sibling whose name merely starts like the prefix is not under it.
    with pytest.raises(InvalidRequest, match="not under"):
        hostpath(tenant, member, name="sibling", path=f"{shared}-evil")
    with pytest.raises(InvalidRequest, match="can never be allowed"):
        hostpath(tenant, member, name="etc", path="/etc")
    assert list(DataTap.objects.values_list("name", flat=True)) == ["imagenet"]


def test_a_symlink_under_a_prefix_cannot_lead_out_of_it(tenant, member, shared):
    (shared / "sneaky").symlink_to("/etc")
    with pytest.raises(InvalidRequest, match="can never be allowed"):
        hostpath(tenant, member, name="sneaky", path=f"{shared}/sneaky")
    (shared / "outside").symlink_to(shared.parent)
    with pytest.raises(InvalidRequest, match="a link to"):
        hostpath(tenant, member, name="outside", path=f"{shared}/outside")
    assert not DataTap.objects.exists()


def test_nfs_fields_are_checked(tenant, member):
    datatap = nfs(tenant, member, options=" hard ,nfsvers=4.1,timeo=600 ")
    assert (datatap.server, datatap.export, datatap.options) == (
        "nfs.example.org",
        "/exports/corpus",
        "hard,nfsvers=4.1,timeo=600",
    )
    ipv6 = datatap_create(
        actor=member, tenant=tenant, name="v6", kind="nfs", server="2001:db8::1", export="/x"
    )
    assert ipv6.server == "2001:db8::1"
    with pytest.raises(InvalidRequest) as refused:
        datatap_create(
            actor=member,
            tenant=tenant,
            name="bad",
            kind="nfs",
            server="nfs.example.org,addr=10.0.0.1",
            export="exports",
            options="soft",
        )
    assert set(refused.value.fields) == {"server", "export"}


@pytest.mark.parametrize(
    "options",
    [
        "addr=10.0.0.1",
        "ro",
        "rw",
        "soft,,hard",
        "timeo=1,x-gvfs",
        "vers=5",
        "timeo=ten",
        "sec=none",
        "soft\nhard",
    ],
)
def test_only_allowlisted_nfs_options(options):
    with pytest.raises(InvalidRequest) as refused:
        nfs_options_clean(options)
    assert "options" in refused.value.fields


def test_kind_fields_do_not_mix(tenant, member, shared):
    with pytest.raises(InvalidRequest, match="takes a path"):
        datatap_create(
            actor=member, tenant=tenant, name="x", kind="hostpath", path=str(shared), server="nfs.example.org"
        )
    with pytest.raises(InvalidRequest, match="not a path"):
        datatap_create(
            actor=member, tenant=tenant, name="x", kind="nfs", server="a", export="/b", path=str(shared)
        )
    with pytest.raises(InvalidRequest, match="Choose one of"):
        datatap_create(actor=member, tenant=tenant, name="x", kind="s3", path=str(shared))


def test_names_are_unique_per_tenant_only(tenant, member, shared):
    hostpath(tenant, member, path=str(shared))
    with pytest.raises(InvalidRequest, match="already exists"):
        hostpath(tenant, member, path=str(shared))
    other = TenantFactory(slug="other", name="Other")
    assert hostpath(other, member, path=str(shared)).tenant == other
    assert AuditEvent.objects.filter(action="datatap.create").count() == 2


def test_every_node_mounts_its_datataps(member, tenant, cluster_item, engine, shared):
    hostpath(tenant, member, path=str(shared / "imagenet"), read_only=True)
    hostpath(tenant, member, name="scratch", path=str(shared / "scratch"), read_only=False)
    corpus = nfs(tenant, member)
    sandbox = sandbox_create(
        owner=member,
        tenant=tenant,
        name="exp",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 1},
        datataps=["imagenet", "corpus", "scratch"],
    )
    run(sandbox.operations.get())

    tap_volume = f"{sandbox.resource_prefix}-tap-corpus"
    assert engine.volumes[tap_volume]["driver_opts"] == {
        "type": "nfs",
        "o": "addr=nfs.example.org,ro,soft,timeo=10",
        "device": ":/exports/corpus",
    }
    assert engine.volumes[tap_volume]["labels"]["org.sandbox-portal.sandbox"] == str(sandbox.pk)
    assert len(engine.containers) == 2
    for container in engine.containers.values():
        assert container["spec"].mounts == (
            Mount(source=sandbox.workspace_volume, target="/workspace"),
            Mount(source=tap_volume, target="/data/corpus", kind="volume", read_only=True),
            Mount(source=str(shared / "imagenet"), target="/data/imagenet", kind="bind", read_only=True),
            Mount(source=str(shared / "scratch"), target="/data/scratch", kind="bind", read_only=False),
        )
    assert corpus.sandboxes.get() == sandbox

    run(sandbox_delete(sandbox=sandbox, actor=member))
    assert engine.volumes == {}
    assert engine.networks == set()


def test_a_sandbox_started_on_another_host_gets_its_nfs_volume_there(member, tenant, cluster_item, engine):
    nfs(tenant, member)
    sandbox = sandbox_create(
        owner=member,
        tenant=tenant,
        name="exp",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 0},
        datataps=["corpus"],
    )
    run(sandbox.operations.get())
    run(sandbox_stop(sandbox=sandbox, actor=member))
    Host.objects.filter(pk=sandbox.nodes.get().host_id).update(state=Host.State.DISABLED)
    second = HostFactory(name="fake-2", cpus=4, memory_mib=65536)

    run(sandbox_start(sandbox=sandbox, actor=member))

    assert sandbox.nodes.get().host == second
    volume = f"{sandbox.resource_prefix}-tap-corpus"
    assert fake_engine(second.url).volumes[volume]["driver_opts"]["device"] == ":/exports/corpus"
    assert f"{sandbox.resource_prefix}-head-0" in fake_engine(second.url).containers


def test_another_tenants_datatap_is_not_found(member, tenant, cluster_item, engine, shared):
    other = TenantFactory(slug="other", name="Other")
    hostpath(other, member, name="secret", path=str(shared))
    with pytest.raises(NotFound) as missing:
        sandbox_create(
            owner=member,
            tenant=tenant,
            name="exp",
            catalog_item="cluster",
            flavor="small",
            datataps=["secret"],
        )
    assert missing.value.fields == {"datataps": ["No DataTap 'secret' in tenant 'acme'."]}
    assert not tenant.sandboxes.exists()
    assert tenant_usage(tenant=tenant).sandboxes == 0


def test_a_member_of_the_other_tenant_alone_cannot_mount_it_either(tenant, cluster_item, engine, shared):
    """The owner must see the DataTap too: a site admin's tenant choice is not enough for a
    user who is not in that tenant."""
    outsider = UserFactory(username="eve")
    other = TenantFactory(slug="other", name="Other")
    MembershipFactory(user=outsider, tenant=other, role=Membership.Role.ADMIN)
    hostpath(tenant, outsider, name="acme-data", path=str(shared))
    with pytest.raises(NotFound):
        sandbox_create(
            owner=outsider,
            tenant=tenant,
            name="exp",
            catalog_item="cluster",
            flavor="small",
            datataps=["acme-data"],
        )


def test_a_revoked_prefix_stops_new_mounts(member, tenant, cluster_item, engine, shared, site_admin):
    hostpath(tenant, member, path=str(shared / "imagenet"))
    hostpath_prefix_remove(actor=site_admin, prefix=shared_prefix(shared))
    with pytest.raises(InvalidRequest) as refused:
        sandbox_create(
            owner=member,
            tenant=tenant,
            name="exp",
            catalog_item="cluster",
            flavor="small",
            datataps=["imagenet"],
        )
    assert "DataTap 'imagenet'" in refused.value.fields["datataps"][0]
    assert not tenant.sandboxes.exists()


def shared_prefix(shared):
    from provisioning.models import HostPathPrefix

    return HostPathPrefix.objects.get(path=str(shared))


def test_deleting_a_datatap_in_use_is_refused_with_its_sandboxes(
    member, tenant, cluster_item, engine, shared
):
    datatap = hostpath(tenant, member, path=str(shared))
    first = sandbox_create(
        owner=member,
        tenant=tenant,
        name="first",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 0},
        datataps=["imagenet"],
    )
    sandbox_create(
        owner=member,
        tenant=tenant,
        name="second",
        catalog_item="cluster",
        flavor="small",
        nodes={"worker": 0},
        datataps=["imagenet"],
    )
    with pytest.raises(InUse) as refused:
        datatap_delete(actor=member, datatap=datatap)
    assert refused.value.extra["sandboxes"] == ["first", "second"]
    assert "first, second" in str(refused.value)

    for sandbox in tenant.sandboxes.all():
        run(sandbox.operations.get())
        run(sandbox_delete(sandbox=sandbox, actor=member))
    assert first.datataps.get() == datatap  # the record of what a deleted sandbox mounted stays
    datatap_delete(actor=member, datatap=datatap)
    assert not DataTap.objects.exists()
    assert AuditEvent.objects.filter(action="datatap.delete").count() == 1


def test_an_nfs_mount_failure_explains_itself_and_leaves_nothing(
    member, tenant, cluster_item, failing_engine
):
    engine = failing_engine
    nfs(tenant, member)
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small", datataps=["corpus"]
    )
    volume = f"{sandbox.resource_prefix}-tap-corpus"
    engine.message = (
        f"Docker engine fake-1: error while mounting volume '/var/lib/docker/volumes/{volume}/_data': "
        "failed to mount local volume: connection timed out"
    )
    operation = run(sandbox.operations.get())

    sandbox.refresh_from_db()
    assert operation.status == OperationStatus.FAILED
    assert sandbox.status == SandboxStatus.ERROR
    assert sandbox.explanation == (
        "Node head-0: DataTap 'corpus' (NFS export nfs.example.org:/exports/corpus) could not be "
        "mounted at /data/corpus: the server did not answer."
    )
    assert (engine.containers, engine.networks, engine.volumes) == ({}, set(), {})
    assert tenant_usage(tenant=tenant).as_dict() == {
        "cpus": 0,
        "memory_mib": 0,
        "gpus": 0,
        "storage_gib": 0,
        "sandboxes": 0,
    }


def test_the_workspace_counts_against_storage_quota(member, tenant, cluster_item, engine):
    """Each sandbox holds its flavor's disk as its workspace: 10 GiB of a 25 GiB quota."""
    tenant.quota_storage_gib = 25
    tenant.save()
    for name in ("one", "two"):
        sandbox_create(
            owner=member,
            tenant=tenant,
            name=name,
            catalog_item="cluster",
            flavor="small",
            nodes={"worker": 0},
        )
    with pytest.raises(QuotaExceeded) as refused:
        sandbox_create(
            owner=member,
            tenant=tenant,
            name="three",
            catalog_item="cluster",
            flavor="small",
            nodes={"worker": 0},
        )
    assert refused.value.dimension == "storage_gib"
    assert tenant_usage(tenant=tenant).storage_gib == 20
    assert tenant.sandboxes.count() == 2
