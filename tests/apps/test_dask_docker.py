"""The dask app: the scheduler on the head, one worker per worker node; a client in a job on the
head connects with no address (DASK_SCHEDULER_ADDRESS) and runs tasks on every worker; the
dashboard opens through the gateway under its gateway path."""

import json

import pytest

from tests.apps.conftest import browser_session, by_node, get_until, job_log, running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARK = "DASK_RESULT "
JOB = r"""python - <<'PY'
import json, os, socket
from distributed import Client
client = Client(timeout=120)
client.wait_for_workers(2, timeout=180)
workers = client.scheduler_info()["workers"]
def where(i):
    return socket.gethostname(), i * i
# Each task pinned to one worker: every worker node computes.
futures = [
    client.submit(where, i, workers=[address], pure=False) for i, address in enumerate(sorted(workers))
]
spread = client.gather(client.map(where, range(40)))
print("DASK_RESULT " + json.dumps({
    "address": os.environ["DASK_SCHEDULER_ADDRESS"], "scheduler": client.scheduler.address,
    "pinned": client.gather(futures), "names": sorted(w["name"] for w in workers.values()),
    "sum": sum(value for _host, value in spread), "spread": sorted({host for host, _ in spread}),
}), flush=True)
PY"""


def test_tasks_run_on_every_worker_and_the_dashboard_opens(
    team, published, celery_worker_process, docker_client, gateway
):
    _tenant, user, client = team
    published("dask")
    with running_cluster(client, docker_client, "dask", workers=2) as sandbox:
        log = by_node(job_log(client, sandbox["id"], JOB, seconds=400))["head-0"]["log"]
        result = json.loads(
            next(line for line in log.splitlines() if line.startswith(MARK)).removeprefix(MARK)
        )
        assert result["address"] == "tcp://head-0:8786"
        assert result["scheduler"].endswith(":8786")
        assert result["names"] == ["worker-0", "worker-1"]
        assert sorted(host for host, _value in result["pinned"]) == ["worker-0", "worker-1"]
        assert set(result["spread"]) <= {"worker-0", "worker-1"}
        assert result["sum"] == sum(i * i for i in range(40))

        endpoints = {
            e["service"]: e["url"]
            for e in client.get(f"/api/v1/sandboxes/{sandbox['id']}/").json()["endpoints"]
        }
        status = endpoints["dask"]
        assert status.startswith(f"{gateway.url}/gateway/") and status.endswith("/dask/status")
        browser = browser_session(user)
        get_until(browser, status, contains="Dask")
        # The dashboard's pages know their prefix: the workers page lists both workers.
        workers_page = get_until(
            browser, status.replace("/status", "/info/main/workers.html"), contains="worker-1"
        )
        assert "worker-0" in workers_page.text
