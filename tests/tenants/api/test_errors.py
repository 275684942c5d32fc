"""Every API error has `detail` and `code`; over quota is a 409 saying what was hit."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.test import APIClient

from common.api.errors import exception_handler
from tenants.resources import QuotaExceeded
from tests.tenants.conftest import api_client_for


def test_quota_exceeded_is_409_with_what_was_hit():
    error = QuotaExceeded(
        tenant="acme", dimension="cpus", limit=Decimal("4"), in_use=Decimal("3.5"), requested=1
    )
    response = exception_handler(error, {})
    assert response.status_code == 409
    assert response.data["code"] == "quota_exceeded"
    assert {k: response.data[k] for k in ("dimension", "limit", "in_use", "requested")} == {
        "dimension": "cpus",
        "limit": Decimal("4"),
        "in_use": Decimal("3.5"),
        "requested": 1,
    }
    assert "cpus" in response.data["detail"]


def test_service_validation_error_is_400_with_field_errors():
    response = exception_handler(DjangoValidationError({"slug": "taken"}), {})
    assert response.status_code == 400
    assert response.data == {"detail": "taken", "code": "invalid", "slug": ["taken"]}


def test_validation_error_keeps_field_errors(world):
    response = api_client_for(world.site_admin).post(
        "/api/v1/tenants/", {"slug": "Not A Slug", "quota": {"cpus": -1}}, format="json"
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert body["detail"]
    assert {"slug", "name", "quota"} <= set(body)
    assert "cpus" in body["quota"]


def test_duplicate_slug_is_a_field_error(world):
    response = api_client_for(world.site_admin).post(
        "/api/v1/tenants/", {"slug": "acme", "name": "Again"}, format="json"
    )
    assert response.status_code == 400
    assert "slug" in response.json()


@pytest.mark.parametrize(
    ("client_for", "url", "status", "code"),
    [
        (lambda world: APIClient(), "/api/v1/tenants/", 401, "not_authenticated"),
        (lambda world: api_client_for(world.member), "/api/v1/audit/", 403, "permission_denied"),
        (lambda world: api_client_for(world.outsider), "/api/v1/tenants/acme/", 404, "not_found"),
    ],
)
def test_errors_have_detail_and_code(world, client_for, url, status, code):
    response = client_for(world).get(url)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]
