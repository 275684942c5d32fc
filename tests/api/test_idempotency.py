"""Idempotency-Key on creates: a retry answers the first result and creates nothing new; the
same key with another body is refused; concurrent duplicates create one object."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from provisioning.models import Sandbox
from tenants.api import tokens as token_api
from tenants.models import IdempotencyRecord, Tenant, Token, User
from tenants.selectors.usage import tenant_usage
from tests.api.conftest import operations


def _sandbox_body(world, name="retried"):
    return {"tenant": "acme", "name": name, "catalog_item": world.item.slug, "flavor": world.flavor.name}


def _takes_the_key(openapi, method, path) -> bool:
    parameters = openapi["paths"][path][method.lower()].get("parameters", [])
    return any(parameter["name"] == "Idempotency-Key" for parameter in parameters)


def test_every_create_takes_the_key(openapi):
    """A POST to a collection (a path that also lists, as GET) creates: it must be an
    `@api_create` handler, so that it takes the key and counts toward the create throttle."""
    lists = {path for method, path in operations(openapi) if method == "GET"}
    missing = [
        path
        for method, path in operations(openapi)
        if method == "POST" and path in lists and not _takes_the_key(openapi, method, path)
    ]
    assert not missing, f"creates without @api_create (common.api.idempotency): {missing}"


def test_the_named_creates_take_the_key(openapi):
    creates = [
        (method, path) for method, path in operations(openapi) if _takes_the_key(openapi, method, path)
    ]
    for expected in ["/api/v1/sandboxes/", "/api/v1/datataps/", "/api/v1/tenants/", "/api/v1/hosts/"]:
        assert ("POST", expected) in creates
    assert ("POST", "/api/v1/tenants/{slug}/members/") in creates
    assert ("POST", "/api/v1/tokens/") in creates


def test_retried_sandbox_create_answers_the_first_result_and_creates_one(world):
    client = world.client("member")
    first = client.post("/api/v1/sandboxes/", _sandbox_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    usage = tenant_usage(tenant=world.acme)
    again = client.post("/api/v1/sandboxes/", _sandbox_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Sandbox.objects.filter(name="retried").count() == 1
    assert tenant_usage(tenant=world.acme) == usage  # the quota was reserved once


def test_same_key_with_another_body_is_refused(world):
    client = world.client("member")
    client.post("/api/v1/sandboxes/", _sandbox_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post(
        "/api/v1/sandboxes/", _sandbox_body(world, "other"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Sandbox.objects.filter(name="other").exists()


def test_same_key_on_another_endpoint_is_refused(world):
    client = world.client("tenant_admin")
    assert (
        client.post("/api/v1/tokens/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code
        == 201
    )
    response = client.post(
        "/api/v1/tenants/acme/members/", {"username": "root"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert response.status_code == 422


def test_keys_are_per_user(world):
    body = {"name": "same-name"}
    bob = world.client("member").post("/api/v1/tokens/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    alice = world.client("tenant_admin").post(
        "/api/v1/tokens/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert bob.status_code == alice.status_code == 201
    assert bob.json()["id"] != alice.json()["id"]


def test_a_failed_create_does_not_use_up_the_key(world):
    client = world.client("member")
    bad = client.post("/api/v1/sandboxes/", {"tenant": "acme"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert bad.status_code == 400
    good = client.post("/api/v1/sandboxes/", _sandbox_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert good.status_code == 202
    assert IdempotencyRecord.objects.filter(key="k-4").count() == 1


def test_a_replayed_token_create_never_stores_or_shows_the_key_again(world):
    client = world.client("member")
    first = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    again = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    assert "key" in first.json()
    assert "key" not in again.json()
    assert again.json() == {name: value for name, value in first.json().items() if name != "key"}
    assert first.json()["key"] not in str(IdempotencyRecord.objects.get(key="k-5").response_body)
    assert Token.objects.filter(user=world.member, name="ci").count() == 1


def test_keys_expire_after_a_day(world):
    client = world.client("member")
    first = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-6")
    IdempotencyRecord.objects.filter(key="k-6").update(created=timezone.now() - timedelta(hours=25))
    later = client.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-6")
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]


def test_a_malformed_key_is_a_400(world):
    response = world.client("member").post(
        "/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Token.objects.filter(name="ci").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_object(monkeypatch):
    """Two requests with the same key at once: the second waits for the first to commit, then
    answers its result. The create is slowed down so that both are surely in flight together."""
    user = User.objects.create_user(username="racer", password="unused")
    real_create = token_api.token_create

    def slow_create(**kwargs):
        time.sleep(0.5)
        return real_create(**kwargs)

    monkeypatch.setattr(token_api, "token_create", slow_create)
    start = threading.Barrier(2)
    responses = []

    def send():
        try:
            client = APIClient()
            client.force_authenticate(user)
            start.wait()
            responses.append(
                client.post(
                    "/api/v1/tokens/", {"name": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-key"
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Token.objects.filter(user=user, name="race").count() == 1
    assert Tenant.objects.count() == 0  # nothing else was touched
