"""PostgreSQL restarted while a create and a delete are in flight: every connection (the
workers', the advisory locks they hold, this test's) is cut. Afterwards each sandbox ends
where it was headed, and nothing is left on the engine or in the ledger.

This restarts the machine's PostgreSQL server, so it suits a machine that runs one test suite at
a time (CI); it is marked slow, and skips itself while anyone else is connected to another
database of the server (other test runs, a portal in use)."""

import subprocess

import pytest
from django.conf import settings
from django.db import connections

from provisioning.models import Operation
from provisioning.services.reconciler import operations_resume_stale
from tests.resilience.conftest import assert_recovered, settle, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def cluster() -> list[str]:
    """The Debian cluster (version, name) that serves the portal's database port."""
    port = str(settings.DATABASES["default"]["PORT"])
    for line in subprocess.run(
        ["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True
    ).stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return [version, name]
    raise AssertionError(f"no local PostgreSQL cluster on port {port}")


def others_connected() -> list[str]:
    """Databases that someone other than this test run is connected to."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT datname FROM pg_stat_activity"
            " WHERE datname IS NOT NULL AND datname <> current_database() AND datname <> 'postgres'"
        )
        return sorted(row[0] for row in cursor.fetchall())


def create(client, name: str) -> int:
    response = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": name, "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_postgres_restart_during_a_create_and_a_delete(
    team, published, celery_worker_process, docker_client, settings
):
    tenant, _user, client = team
    if busy := others_connected():
        pytest.skip(f"restarting PostgreSQL would cut the sessions of others, on {', '.join(busy)}")
    published("python-minimal")
    leaving = create(client, "leaving")
    settle([leaving])
    arriving = create(client, "arriving")
    assert client.delete(f"/api/v1/sandboxes/{leaving}/").status_code == 202
    wait_until(
        lambda: Operation.objects.filter(sandbox_id=arriving, attempts__gte=1).exists(),
        what="a worker to take the create",
    )

    # -m fast: sessions are cut at once, as when the server crashes or is upgraded.
    subprocess.run(["pg_ctlcluster", *cluster(), "restart", "-m", "fast"], check=True, timeout=120)
    connections.close_all()  # this process's connection died with the server too

    settings.OPERATION_STALE_S = 1

    def settled():
        try:
            operations_resume_stale()  # what the reconciler's beat does
            return settle([leaving, arriving], seconds=2)
        except AssertionError:
            return None

    sandboxes = wait_until(settled, seconds=180, every=1, what="both sandboxes to settle")
    assert sandboxes[leaving].status == "deleted", sandboxes[leaving].explanation
    assert sandboxes[arriving].status == "running", sandboxes[arriving].explanation
    assert_recovered([leaving, arriving], [docker_client], tenant)

    after = create(client, "after")  # the platform takes new work again
    settle([after])
    for sandbox_id in (arriving, after):
        assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    sandboxes = settle([arriving, after])
    assert {s.status for s in sandboxes.values()} == {"deleted"}
    assert_recovered([leaving, arriving, after], [docker_client], tenant)
