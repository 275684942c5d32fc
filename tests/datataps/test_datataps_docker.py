"""DataTaps on the real Docker engine: hostpath DataTaps end to end inside a node, NFS DataTaps
up to the engine's answer (this kernel has no NFS client), and the workspace across stop and
start. Sandboxes are driven through the API and carried out by a real Celery worker."""

import time

import pytest

from provisioning.containers import LABEL_PREFIX
from provisioning.drivers.docker import SITE_LABEL, DockerDriver
from provisioning.models import Operation, Sandbox
from provisioning.naming import sandbox_prefix
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create
from tenants.selectors.usage import tenant_usage
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}
NO_USAGE = {"cpus": 0, "memory_mib": 0, "gpus": 0, "storage_gib": 0, "sandboxes": 0}
# TEST-NET-1 (RFC 5737): never routed, so no NFS server ever answers there.
UNREACHABLE = "192.0.2.1"
QUICK_GIVE_UP = "soft,timeo=10,retrans=1"


def run_in(docker_client, sandbox_id, command):
    container = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")
    result = container.exec_run(["sh", "-c", command])
    return result.exit_code, result.output.decode()


def wait_for_error(client, sandbox_id, *, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/sandboxes/{sandbox_id}/").json()
        if body["status"] == "error":
            return body
        assert body["status"] in ("pending", "provisioning"), body
        time.sleep(0.3)
    raise AssertionError(f"sandbox stayed {body['status']}")


def test_hostpath_datataps_end_to_end(
    team, lab_admin, shared_dir, published, celery_worker_process, docker_client
):
    tenant, _member, client = team
    published("python-minimal")
    (shared_dir / "reference").mkdir()
    (shared_dir / "reference" / "hello.txt").write_text("written on the host\n")
    (shared_dir / "scratch").mkdir()
    (shared_dir / "scratch").chmod(0o777)  # the node's user is not root
    for name, read_only in (("reference", True), ("scratch", False)):
        created = lab_admin.post(
            "/api/v1/datataps/",
            {
                "tenant": "lab",
                "name": name,
                "kind": "hostpath",
                "path": str(shared_dir / name),
                "read_only": read_only,
            },
            format="json",
        )
        assert created.status_code == 201, created.json()

    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "taps",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "datataps": ["reference", "scratch"],
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    assert created.json()["datataps"] == ["reference", "scratch"]
    wait_for_status(client, sandbox_id, {"running"})

    assert run_in(docker_client, sandbox_id, "cat /data/reference/hello.txt") == (0, "written on the host\n")
    code, output = run_in(docker_client, sandbox_id, "echo nope > /data/reference/new.txt")
    assert code != 0
    assert "Read-only file system" in output
    assert not (shared_dir / "reference" / "new.txt").exists()
    assert run_in(docker_client, sandbox_id, "echo from the node > /data/scratch/out.txt") == (0, "")
    assert (shared_dir / "scratch" / "out.txt").read_text() == "from the node\n"

    # The workspace outlives its containers' stop and start; the DataTaps are mounted again.
    assert run_in(docker_client, sandbox_id, "echo kept > /workspace/note.txt")[0] == 0
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})
    assert tenant_usage(tenant=tenant).storage_gib == 10  # the workspace still holds its storage
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    wait_for_status(client, sandbox_id, {"running"})
    assert run_in(docker_client, sandbox_id, "cat /workspace/note.txt /data/scratch/out.txt") == (
        0,
        "kept\nfrom the node\n",
    )

    # In use: the DataTap cannot be deleted. The sandbox goes, with its workspace; the data stays.
    scratch_id = next(
        d["id"] for d in lab_admin.get("/api/v1/datataps/").json()["results"] if d["name"] == "scratch"
    )
    refused = lab_admin.delete(f"/api/v1/datataps/{scratch_id}/")
    assert (refused.status_code, refused.json()["sandboxes"]) == (409, ["taps"])
    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert tenant_usage(tenant=tenant).as_dict() == NO_USAGE
    assert (shared_dir / "scratch" / "out.txt").read_text() == "from the node\n"
    assert lab_admin.delete(f"/api/v1/datataps/{scratch_id}/").status_code == 204


def test_nfs_volume_reaches_the_engine_with_its_options(
    team, lab_admin, published, docker_client, monkeypatch
):
    """The operation runs in this process, so a spy on the real driver can read the volume on
    the engine at the moment the node is about to mount it."""
    tenant, member, _client = team
    published("python-minimal")
    created = lab_admin.post(
        "/api/v1/datataps/",
        {
            "tenant": "lab",
            "name": "corpus",
            "kind": "nfs",
            "server": UNREACHABLE,
            "export": "/exports/corpus",
            "options": QUICK_GIVE_UP,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    seen = {}
    start = DockerDriver.start

    def start_and_look(driver, spec):
        seen.update(docker_client.api.inspect_volume(f"{sandbox_prefix(sandbox.pk)}-tap-corpus"))
        seen["mounts"] = spec.mounts
        return start(driver, spec)

    monkeypatch.setattr(DockerDriver, "start", start_and_look)
    monkeypatch.setattr("provisioning.services.sandboxes.operation_enqueue", lambda operation: None)
    sandbox = sandbox_create(
        owner=member,
        tenant=tenant,
        name="nfs",
        catalog_item="python-minimal",
        flavor="small",
        datataps=["corpus"],
    )
    operation = Operation.objects.get(sandbox=sandbox)
    while operation_advance(operation_id=operation.pk).again_in is not None:
        pass

    assert seen["Driver"] == "local"
    assert seen["Options"] == {
        "type": "nfs",
        "o": f"addr={UNREACHABLE},ro,{QUICK_GIVE_UP}",
        "device": ":/exports/corpus",
    }
    assert seen["Labels"][f"{LABEL_PREFIX}.sandbox"] == str(sandbox.pk)
    assert SITE_LABEL in seen["Labels"]
    assert [(m.source, m.target, m.read_only) for m in seen["mounts"] if m.target.startswith("/data/")] == [
        (f"{sandbox_prefix(sandbox.pk)}-tap-corpus", "/data/corpus", True)
    ]
    sandbox.refresh_from_db()
    assert sandbox.status == "error"
    assert leftovers(docker_client, sandbox.pk) == NOTHING


def test_unreachable_nfs_server_ends_in_error_and_leaves_nothing(
    team, lab_admin, published, celery_worker_process, docker_client
):
    tenant, _member, client = team
    published("python-minimal")
    created = lab_admin.post(
        "/api/v1/datataps/",
        {
            "tenant": "lab",
            "name": "corpus",
            "kind": "nfs",
            "server": UNREACHABLE,
            "export": "/exports/corpus",
            "options": QUICK_GIVE_UP,
            "read_only": False,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "nfs",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "datataps": ["corpus"],
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]

    body = wait_for_error(client, sandbox_id)
    explanation = (
        f"Node head-0: DataTap 'corpus' (NFS export {UNREACHABLE}:/exports/corpus) could not be mounted "
        "at /data/corpus: "
    )
    assert body["status_detail"].startswith(explanation), body["status_detail"]
    # the engine's answer names its volume folders and the mount's options: not for tenants
    assert "addr=" not in body["status_detail"]
    assert "/var/lib/docker" not in body["status_detail"]
    operation = client.get(f"/api/v1/sandboxes/{sandbox_id}/operations/").json()["results"][0]
    assert (operation["status"], operation["explanation"]) == ("failed", body["status_detail"])
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert tenant_usage(tenant=tenant).as_dict() == NO_USAGE
    assert Sandbox.objects.get(pk=sandbox_id).datataps.get().name == "corpus"


def test_a_hostpath_missing_on_the_host_ends_in_error_and_leaves_nothing(
    team, lab_admin, shared_dir, published, celery_worker_process, docker_client
):
    tenant, _member, client = team
    published("python-minimal")
    missing = shared_dir / "not-mounted-here"
    created = lab_admin.post(
        "/api/v1/datataps/",
        {"tenant": "lab", "name": "lustre", "kind": "hostpath", "path": str(missing)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "gone",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "datataps": ["lustre"],
        },
        format="json",
    )
    sandbox_id = created.json()["id"]

    body = wait_for_error(client, sandbox_id)
    assert body["status_detail"] == (
        f"Node head-0: DataTap 'lustre' ({missing}) could not be mounted at /data/lustre: it does not exist."
    ), body["status_detail"]
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert tenant_usage(tenant=tenant).as_dict() == NO_USAGE
