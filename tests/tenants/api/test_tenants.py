"""The tenant body of the API: quota and usage side by side."""

from decimal import Decimal

import pytest
from django.db import transaction

from tenants.resources import AllocationRequest, Resources
from tenants.services.quota import quota_reserve
from tests.tenants.conftest import api_client_for


def test_tenant_body_has_quota_and_usage(world):
    with transaction.atomic():
        quota_reserve(
            tenant=world.acme,
            owner=world.member,
            group="sandbox/1",
            requests=[
                AllocationRequest("sandbox/1", Resources(cpus=Decimal("1.5"), memory_mib=2048, sandboxes=1))
            ],
        )
    body = api_client_for(world.member).get("/api/v1/tenants/acme/").json()
    assert body["slug"] == "acme"
    assert body["quota"] == {"cpus": 4.0, "memory_mib": 32768, "gpus": 0, "storage_gib": 100, "sandboxes": 2}
    assert body["usage"] == {"cpus": 1.5, "memory_mib": 2048, "gpus": 0, "storage_gib": 0, "sandboxes": 1}


def test_create_with_partial_quota_keeps_the_defaults(world):
    response = api_client_for(world.site_admin).post(
        "/api/v1/tenants/", {"slug": "initech", "name": "Initech", "quota": {"gpus": 2}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["quota"]["gpus"] == 2
    assert response.json()["quota"]["sandboxes"] == 10


def test_site_admin_may_set_quota_below_usage(world):
    with transaction.atomic():
        quota_reserve(
            tenant=world.acme,
            owner=world.member,
            group="sandbox/1",
            requests=[AllocationRequest("sandbox/1", Resources(sandboxes=2))],
        )
    response = api_client_for(world.site_admin).patch(
        "/api/v1/tenants/acme/", {"quota": {"sandboxes": 0}}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["quota"]["sandboxes"], response.json()["usage"]["sandboxes"]) == (0, 2)


@pytest.mark.parametrize("slug", ["new", "switch"])
def test_slugs_the_pages_use_are_reserved(world, slug):
    response = api_client_for(world.site_admin).post(
        "/api/v1/tenants/", {"slug": slug, "name": "X"}, format="json"
    )
    assert response.status_code == 400
    assert "slug" in response.json()
