"""Issue 21, item 14: NFS DataTaps took loopback servers and `port=`, aiming the host's mount at
the host's own services, and a failed mount showed the tenant the engine's host paths and mount
options. Loopback, link-local and multicast servers (and names resolving to them) and port
options are refused; a mount failure is explained with what the tenant gave, nothing more."""

# The fake engine's fixtures are imported from provisioning's tests and named as arguments.
# ruff: noqa: F811

import socket

import pytest

from provisioning.errors import InvalidRequest
from provisioning.models import DataTap, OperationStatus
from provisioning.services import datataps
from provisioning.services.datataps import datatap_create
from provisioning.services.sandboxes import sandbox_create
from provisioning.tests.conftest import (  # noqa: F401 - fixtures
    cluster_item,
    engine,
    failing_engine,
    fake_host,
    member,
    small,
    tenant,
)
from provisioning.tests.lifecycle import run


def _nfs(tenant, member, *, server="nfs.example.org", options=""):
    return datatap_create(
        actor=member,
        tenant=tenant,
        name="corpus",
        kind="nfs",
        server=server,
        export="/exports/corpus",
        options=options,
    )


@pytest.mark.parametrize(
    "server",
    [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",  # noqa: S104 - a server address to refuse, not one to bind
        "169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "localhost",
        "LOCALHOST",
        "nfs.localhost",
    ],
)
def test_servers_on_the_host_itself_or_its_link_are_refused(tenant, member, server):
    with pytest.raises(InvalidRequest) as refused:
        _nfs(tenant, member, server=server)
    assert list(refused.value.fields) == ["server"]
    assert not DataTap.objects.exists()


def test_a_name_that_resolves_to_loopback_is_refused(tenant, member, monkeypatch):
    # DNS is not ours to run in a test: this resolver answers like a record pointing home.
    def resolve(host, port, *args, **kwargs):
        assert host == "nfs.rebound.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]

    monkeypatch.setattr(datataps.socket, "getaddrinfo", resolve)
    with pytest.raises(InvalidRequest, match="resolves to 127.0.0.1"):
        _nfs(tenant, member, server="nfs.rebound.example")
    assert not DataTap.objects.exists()


def test_this_machines_own_name_is_refused_when_it_resolves_home(tenant, member):
    name = socket.gethostname().lower()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    if not any(address.startswith("127.") or address == "::1" for address in addresses):
        pytest.skip(f"{name} resolves to {addresses} on this machine, not to loopback")
    with pytest.raises(InvalidRequest, match="loopback"):
        _nfs(tenant, member, server=name)


@pytest.mark.parametrize("options", ["port=22", "soft,port=2049", "mountport=111", "mountaddr=127.0.0.1"])
def test_port_options_are_refused(tenant, member, options):
    with pytest.raises(InvalidRequest) as refused:
        _nfs(tenant, member, options=options)
    assert list(refused.value.fields) == ["options"]
    assert not DataTap.objects.exists()


def test_a_real_server_with_ordinary_options_is_accepted(tenant, member):
    tap = _nfs(tenant, member, server="192.0.2.10", options="soft,timeo=10,nfsvers=4.1")
    assert (tap.server, tap.options) == ("192.0.2.10", "soft,timeo=10,nfsvers=4.1")


def test_a_failed_mount_shows_no_engine_paths_or_options(tenant, member, cluster_item, failing_engine):
    _nfs(tenant, member, options="soft,timeo=10")
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small", datataps=["corpus"]
    )
    volume = f"{sandbox.resource_prefix}-tap-corpus"
    failing_engine.message = (
        f"Docker engine fake-1: error while mounting volume '/var/lib/docker/volumes/{volume}/_data': "
        "failed to mount local volume: mount :/exports/corpus:/var/lib/docker/volumes/"
        f"{volume}/_data, flags: 0x1, data: addr=nfs.example.org,soft,timeo=10: connection timed out"
    )

    operation = run(sandbox.operations.get())

    assert operation.status == OperationStatus.FAILED
    assert operation.explanation == (
        "Node head-0: DataTap 'corpus' (NFS export nfs.example.org:/exports/corpus) could not be "
        "mounted at /data/corpus: the server did not answer."
    )
    sandbox.refresh_from_db()
    for shown in (operation.explanation, sandbox.explanation):
        assert "/var/lib/docker" not in shown
        assert "addr=" not in shown
        assert volume not in shown
