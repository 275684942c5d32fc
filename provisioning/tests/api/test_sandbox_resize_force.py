"""Issue 21, item 12 through the API: a resize down under a running job answers 409 naming it;
`"force": true` cancels the job and resizes."""

from rest_framework.test import APIClient

from provisioning.models import Job
from provisioning.services.jobs import job_advance
from provisioning.tests.doubles import JobProcesses


def test_issue21_item12_resize_answers_409_naming_the_job_unless_forced(member, cluster, engine):
    JobProcesses(engine)
    client = APIClient()
    client.force_authenticate(member)
    job_id = client.post(
        f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "python train.py"}, format="json"
    ).json()["id"]
    job_advance(job_id=job_id)

    refused = client.post(f"/api/v1/sandboxes/{cluster.pk}/resize/", {"nodes": {"worker": 1}}, format="json")
    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["jobs"]) == ("state_conflict", [job_id])
    assert f"Job {job_id} ('python train.py') runs on a node this resize removes" in refused.json()["detail"]
    assert Job.objects.get(pk=job_id).cancel_requested is None

    forced = client.post(
        f"/api/v1/sandboxes/{cluster.pk}/resize/", {"nodes": {"worker": 1}, "force": True}, format="json"
    )
    assert forced.status_code == 202, forced.json()
    assert forced.json()["kind"] == "resize"
    assert Job.objects.get(pk=job_id).cancel_requested is not None
