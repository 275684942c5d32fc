"""The spark app: a standalone cluster whose master runs on the head and whose executors run on
the workers, reading a host-path DataTap mounted in place on every node; the master's web UI
opens through the gateway with its links under the gateway path."""

import json
import re

import pytest

from tests.apps.conftest import browser_session, by_node, get_until, job_log, running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARK = "SPARK_RESULT "
# Run on the head as a job: waits for the workers to register (the portal's readiness knows
# their ports, not the master's registry), then reads the DataTap's CSV with SparkSession's
# default master (spark-defaults.conf: SPARK_MASTER_URL) and counts rows per executor host.
JOB = r"""python - <<'PY'
import json, os, socket, time, urllib.request
for _ in range(180):
    try:
        if json.load(urllib.request.urlopen("http://head-0:8080/json/"))["aliveworkers"] >= 1:
            break
    except OSError:
        pass
    time.sleep(1)
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("smoke").getOrCreate()
frame = spark.read.csv("file:///data/train/points.csv", header=True, inferSchema=True).repartition(4)
hosts = frame.rdd.mapPartitions(lambda rows: [(socket.gethostname(), sum(1 for _ in rows))]).collect()
labels = {str(r["label"]): r["count"] for r in frame.groupBy("label").count().collect()}
print("SPARK_RESULT " + json.dumps({
    "master": spark.sparkContext.master, "env": os.environ["SPARK_MASTER_URL"],
    "hosts": hosts, "labels": labels, "driver": socket.gethostname(),
}), flush=True)
spark.stop()
PY"""


def test_tasks_run_on_the_workers_and_read_a_datatap(
    team,
    training_data,
    published,
    celery_worker_process,
    docker_client,
    gateway,  # noqa: F811
):
    _tenant, user, client = team
    published("spark")
    with running_cluster(client, docker_client, "spark", workers=1, datataps=["train"]) as sandbox:
        job = job_log(client, sandbox["id"], JOB, seconds=400)
        log = by_node(job)["head-0"]["log"]
        result = json.loads(
            next(line for line in log.splitlines() if line.startswith(MARK)).removeprefix(MARK)
        )
        assert result["master"] == result["env"] == "spark://head-0:7077"
        assert result["driver"] == "head-0"
        # Every task ran in an executor on the worker, none on the head, and together they read
        # the whole file: 600 rows in 4 separable classes.
        assert {host for host, _rows in result["hosts"]} == {"worker-0"}
        assert sum(rows for _host, rows in result["hosts"]) == 600
        assert sum(result["labels"].values()) == 600 and len(result["labels"]) == 4

        # The master's UI through the gateway: the page lists the worker and the finished
        # application, and its links stay under the gateway path.
        endpoints = {
            e["service"]: e["url"]
            for e in client.get(f"/api/v1/sandboxes/{sandbox['id']}/").json()["endpoints"]
        }
        ui = endpoints["spark"]
        prefix = ui.removeprefix(gateway.url).removesuffix("/")
        assert re.fullmatch(r"/gateway/[A-Za-z0-9_-]+/spark", prefix), ui
        browser = browser_session(user)
        page = get_until(browser, ui, contains="smoke")
        assert "spark://head-0:7077" in page.text
        assert "worker-0" in page.text
        worker_links = re.findall(rf'href="({re.escape(prefix)}/proxy/worker-[^"]+)"', page.text)
        assert worker_links, page.text[:3000]
        worker_page = browser.get(f"{gateway.url}{worker_links[0]}", timeout=10)
        assert worker_page.status_code == 200 and "Spark Worker at worker-0" in worker_page.text
        # The worker's page, proxied by the master, links under the head's gateway path too.
        stylesheet = re.search(r'href="([^"]+bootstrap[^"]*\.css)"', worker_page.text)[1]
        assert stylesheet.startswith(f"{prefix}/"), stylesheet
        assert browser.get(f"{gateway.url}{stylesheet}", timeout=10).status_code == 200
        # Nobody else's browser passes: a user who is no member gets no answer about it.
        from tenants.models import User

        stranger = browser_session(User.objects.create_user(username="eve", password="not-used-here"))
        assert stranger.get(ui, timeout=10, allow_redirects=False).status_code == 404
