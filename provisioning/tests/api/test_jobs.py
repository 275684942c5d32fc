"""The jobs API: who may run, read and cancel a sandbox's jobs, and what bad input answers."""

import json

from rest_framework.test import APIClient

from provisioning.models import Job
from tenants.models import Membership
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory


def test_api_scopes_jobs_to_the_tenant_and_its_managers(member, tenant, cluster, engine):
    owner = APIClient()
    owner.force_authenticate(member)
    made = owner.post(
        f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "hostname", "nodes": "head"}, format="json"
    )
    assert made.status_code == 202, made.json()
    body = made.json()
    assert (body["status"], body["target"], [n["node"] for n in body["nodes"]]) == (
        "pending",
        "head",
        ["head-0"],
    )
    assert "PRIVATE KEY" not in json.dumps(owner.get(f"/api/v1/sandboxes/{cluster.pk}/").json())

    colleague = UserFactory(username="bob")
    MembershipFactory(user=colleague, tenant=tenant, role=Membership.Role.MEMBER)
    as_colleague = APIClient()
    as_colleague.force_authenticate(colleague)
    assert as_colleague.get(f"/api/v1/jobs/{body['id']}/").status_code == 200
    refused = as_colleague.post(f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id"}, format="json")
    assert refused.status_code == 403
    assert as_colleague.post(f"/api/v1/jobs/{body['id']}/cancel/").status_code == 403

    stranger = UserFactory(username="eve")
    MembershipFactory(user=stranger, tenant=TenantFactory(slug="other", name="Other"), role="admin")
    as_stranger = APIClient()
    as_stranger.force_authenticate(stranger)
    assert as_stranger.get(f"/api/v1/jobs/{body['id']}/").status_code == 404
    assert as_stranger.get(f"/api/v1/sandboxes/{cluster.pk}/jobs/").status_code == 404
    assert (
        as_stranger.post(
            f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id"}, format="json"
        ).status_code
        == 404
    )

    bad = owner.post(
        f"/api/v1/sandboxes/{cluster.pk}/jobs/", {"command": "id", "nodes": "gpu"}, format="json"
    )
    assert bad.status_code == 400 and "nodes" in bad.json()
    assert owner.get(f"/api/v1/jobs/{body['id']}/?offset=x").status_code == 400
    # This catalog item ships no validation job.
    assert (
        owner.post(f"/api/v1/sandboxes/{cluster.pk}/jobs/validation/", {}, format="json").status_code == 409
    )
    assert owner.post(f"/api/v1/jobs/{body['id']}/cancel/").status_code == 202
    assert Job.objects.get(pk=body["id"]).cancel_requested is not None
