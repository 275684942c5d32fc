"""Issue 21, item 10 on the real Docker engine: a sandbox's workspace is a file system of the
flavor's `disk_gib` of its own, so filling it is the node's "No space left on device", never the
host's full disk; deleting the sandbox removes its file system image."""

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from catalog.models import Flavor
from provisioning.naming import sandbox_prefix
from tests.provisioning.conftest import leftovers, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}
KIB_PER_GIB = 1024 * 1024


def run_in(docker_client, sandbox_id, command):
    container = docker_client.containers.get(f"{sandbox_prefix(sandbox_id)}-head-0")
    result = container.exec_run(["sh", "-c", command])
    return result.exit_code, result.output.decode()


def test_issue21_item10_a_full_workspace_is_the_nodes_enospc_not_the_hosts(
    team, published, celery_worker_process, docker_client, local_host
):
    _tenant, _user, client = team
    published("python-minimal")
    Flavor.objects.create(name="tiny", cpus=1, memory_mib=512, gpus=0, disk_gib=1)
    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "filler", "catalog_item": "python-minimal", "flavor": "tiny"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    image = Path(settings.WORKSPACE_DIR) / local_host.name / f"{sandbox_prefix(sandbox_id)}-workspace.ext4"
    assert image.is_file()

    code, output = run_in(docker_client, sandbox_id, "df -k /workspace | tail -1")
    assert code == 0
    assert int(output.split()[1]) <= KIB_PER_GIB  # its size is the flavor's, not the host disk's
    assert run_in(docker_client, sandbox_id, "echo mine > /workspace/note.txt") == (0, "")

    code, output = run_in(docker_client, sandbox_id, "dd if=/dev/zero of=/workspace/fill bs=1M count=1100")
    assert code != 0
    assert "No space left on device" in output
    assert os.stat(image).st_blocks * 512 <= 1024**3  # the host gave it no more than its size

    # The node lives on: freeing space makes the workspace usable again; it survives a restart,
    # even one that lost its mount.
    assert run_in(docker_client, sandbox_id, "rm /workspace/fill && echo more >> /workspace/note.txt") == (
        0,
        "",
    )
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})
    subprocess.run(["umount", str(image.with_suffix(""))], check=True)  # as a reboot would
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/start/").status_code == 202
    wait_for_status(client, sandbox_id, {"running"})
    assert run_in(docker_client, sandbox_id, "cat /workspace/note.txt") == (0, "mine\nmore\n")

    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, sandbox_id) == NOTHING
    assert not image.exists()
    assert not image.with_suffix("").exists()
