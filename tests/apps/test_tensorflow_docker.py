"""The tensorflow app: a head and a worker train one Keras model together with
MultiWorkerMirroredStrategy, each told its place by the TF_CONFIG that the portal sets in the
job (the image's validation job)."""

import json

import pytest

from tests.apps.conftest import by_node, job_log, running_cluster, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_multi_worker_training_across_two_nodes(team, published, celery_worker_process, docker_client):
    _tenant, _user, client = team
    published("tensorflow")
    with running_cluster(client, docker_client, "tensorflow", workers=1) as sandbox:
        # TensorFlow on the head; TF_CONFIG only in jobs, never in the container (tini, pid 1, has its env).
        head = job_log(
            client,
            sandbox["id"],
            "python -c \"import tensorflow as tf; print('version', tf.__version__)\" 2>/dev/null; "
            'echo "in container: $(tr "\\0" "\\n" < /proc/1/environ | grep -c ^TF_CONFIG=)"',
        )
        log = by_node(head)["head-0"]["log"]
        assert "version 2.21.0\n" in log and "in container: 0\n" in log, log

        made = client.post(f"/api/v1/sandboxes/{sandbox['id']}/jobs/validation/", {}, format="json")
        assert made.status_code == 202, made.json()
        job = wait_for_job(client, made.json()["id"], {"succeeded", "failed"}, seconds=600)
        nodes = by_node(job)
        assert job["status"] == "succeeded", json.dumps(nodes)[-3000:]
        assert sorted(nodes) == ["head-0", "worker-0"]
        for index, name in enumerate(["head-0", "worker-0"]):
            assert f"[worker {index}] 2 replicas on 2 workers" in nodes[name]["log"]
            assert f"[worker {index}] epoch 3/3" in nodes[name]["log"]
        result = job["result"]
        assert (result["strategy"], result["workers"], result["replicas"]) == (
            "MultiWorkerMirroredStrategy",
            2,
            2,
        )
        assert result["loss_last"] < result["loss_first"]
        # One model: the all-reduced loss is the same on both workers at every epoch.
        worker_losses = [
            float(line.rsplit(" ", 1)[1])
            for line in nodes["worker-0"]["log"].splitlines()
            if " epoch " in line
        ]
        assert worker_losses == result["losses"]
