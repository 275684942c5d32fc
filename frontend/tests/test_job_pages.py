"""The jobs panel of a sandbox page and a job's page: run a command, run the validation job and
see its result, cancel."""

import json

from provisioning.models import Job, JobStatus
from provisioning.services import jobs as job_services
from provisioning.services.jobs import job_advance
from provisioning.tests.doubles import JobProcesses, node_container


def test_sandbox_page_runs_jobs_and_shows_the_validation_result(member, cluster, engine, client):
    cluster.catalog_item.manifest["environment"] = {"VALIDATION_JOB": "python /opt/sandbox/validate.py"}
    cluster.catalog_item.save()
    client.force_login(member)
    panel = client.get(f"/sandboxes/{cluster.pk}/jobs/").content.decode()
    assert "No jobs yet." in panel
    assert "Run the validation job" in panel

    assert client.post(f"/sandboxes/{cluster.pk}/jobs/validate/").status_code == 302
    validation = Job.objects.get()
    assert (validation.kind, validation.command) == (Job.Kind.VALIDATION, "python /opt/sandbox/validate.py")
    nodes = JobProcesses(engine)
    job_advance(job_id=validation.pk)
    result = {"backend": "gloo", "world_size": 3, "nodes": 3, "allreduce_latency_us": 812.5, "epochs": 5}
    result |= {"allreduce_bandwidth": [{"bytes": 1048576, "algbw_gbps": 0.21, "busbw_gbps": 0.28}]}
    result |= {"samples": 2048, "data": "generated", "loss_first": 1.2, "loss_last": 0.3}
    head_log = f"[rank 0] epoch 5/5\n{job_services.VALIDATION_RESULT_MARK}{json.dumps(result)}\n".encode()
    nodes.end(node_container(cluster, "head-0"), exit_code=0, log=head_log)
    for name in ("worker-0", "worker-1"):
        nodes.end(node_container(cluster, name), exit_code=0, log=b"[rank 1] epoch 5/5\n")
    assert job_advance(job_id=validation.pk).again_in is None
    validation.refresh_from_db()
    assert (validation.status, validation.result) == (JobStatus.SUCCEEDED, result)

    panel = client.get(f"/sandboxes/{cluster.pk}/jobs/").content.decode()
    assert "812.5 µs" in panel
    assert "1.2 → 0.3" in panel
    page = client.get(f"/jobs/{validation.pk}/").content.decode()
    assert "[rank 0] epoch 5/5" in page
    assert "succeeded" in page

    assert (
        client.post(
            f"/sandboxes/{cluster.pk}/jobs/run/", {"command": "sleep 60", "nodes": "worker"}
        ).status_code
        == 302
    )
    running = Job.objects.exclude(pk=validation.pk).get()
    assert (running.command, running.target) == ("sleep 60", "worker")
    assert client.post(f"/jobs/{running.pk}/cancel/").status_code == 302
    assert Job.objects.get(pk=running.pk).cancel_requested is not None
