"""Issue 21, item 1 on the real Docker engine: a DataTap's directory replaced by a symlink while
its sandbox is stopped. The engine follows host symlinks at every start, so the worker checks the
path again right before it starts the node: the start fails with a plain explanation and nothing
of the link's target reaches the node."""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from provisioning.naming import sandbox_prefix
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outside_dir():
    """A directory outside every allowed prefix, standing for the host's own files."""
    root = Path(tempfile.mkdtemp(prefix="portal-outside-test-", dir="/tmp"))
    (root / "secret.txt").write_text("the host's own\n")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wait_for_error(client, sandbox_id, *, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/sandboxes/{sandbox_id}/").json()
        if body["status"] == "error":
            return body
        assert body["status"] == "starting", body
        time.sleep(0.3)
    raise AssertionError(f"sandbox stayed {body['status']}")


def test_issue21_item1_a_datatap_swapped_for_a_symlink_is_not_mounted_on_start(
    team, lab_admin, shared_dir, outside_dir, published, celery_worker_process, docker_client
):
    _tenant, _member, client = team
    published("python-minimal")
    reference = shared_dir / "reference"
    reference.mkdir()
    (reference / "hello.txt").write_text("shared data\n")
    created = lab_admin.post(
        "/api/v1/datataps/",
        {"tenant": "lab", "name": "reference", "kind": "hostpath", "path": str(reference)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "swap",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "datataps": ["reference"],
        },
        format="json",
    )
    sandbox_id = created.json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})

    shutil.rmtree(reference)
    os.symlink(outside_dir, reference)
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    body = wait_for_error(client, sandbox_id)

    assert body["status_detail"].startswith(
        f"Node head-0: DataTap 'reference' was not mounted: {reference} (a link to {outside_dir}) "
        f"is not under a host path prefix the site allows ({shared_dir})."
    ), body["status_detail"]
    for container in docker_client.containers.list(all=True, filters={"name": sandbox_prefix(sandbox_id)}):
        assert container.status != "running"
        sources = {m["Source"] for m in container.attrs["Mounts"]} | {
            m["Source"] for m in container.attrs["HostConfig"].get("Mounts") or []
        }
        assert not any(str(outside_dir) in source for source in sources), sources
    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert (outside_dir / "secret.txt").read_text() == "the host's own\n"


def test_issue21_item1_a_link_within_the_prefix_is_mounted_by_its_resolved_path(
    team, lab_admin, shared_dir, published, celery_worker_process, docker_client
):
    """The stopped container was made with the old directory: it is made again, bound to the
    directory the link resolves to now (never to the link, which the engine would follow)."""
    _tenant, _member, client = team
    published("python-minimal")
    reference = shared_dir / "reference"
    reference.mkdir()
    (shared_dir / "v2").mkdir()
    (shared_dir / "v2" / "hello.txt").write_text("second edition\n")
    created = lab_admin.post(
        "/api/v1/datataps/",
        {"tenant": "lab", "name": "reference", "kind": "hostpath", "path": str(reference)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    created = client.post(
        "/api/v1/sandboxes/",
        {
            "tenant": "lab",
            "name": "relink",
            "catalog_item": "python-minimal",
            "flavor": "small",
            "datataps": ["reference"],
        },
        format="json",
    )
    sandbox_id = created.json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})

    reference.rmdir()
    os.symlink(shared_dir / "v2", reference)
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    wait_for_status(client, sandbox_id, {"running"})

    container = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")
    binds = {m["Destination"]: m["Source"] for m in container.attrs["Mounts"] if m["Type"] == "bind"}
    assert binds == {"/data/reference": str(shared_dir / "v2")}
    result = container.exec_run(["cat", "/data/reference/hello.txt"])
    assert (result.exit_code, result.output.decode()) == (0, "second edition\n")
    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
