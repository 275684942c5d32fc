"""One error format on every path, the body size cap, and both ways to authenticate: a token,
and the browser's session with CSRF enforced on writes."""

import pytest
from django.test import Client, override_settings

from tenants.models import Token


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing/", None, None, 404, "not_found"),
        ("get", "/api/v1/sandboxes/999999/", None, None, 404, "not_found"),
        ("put", "/api/v1/tenants/acme/", "{}", "application/json", 405, "method_not_allowed"),
        ("post", "/api/v1/tokens/", "name: x", "application/yaml", 415, "unsupported_media_type"),
        ("post", "/api/v1/tokens/", "{not json", "application/json", 400, "parse_error"),
        ("post", "/api/v1/tokens/", "{}", "application/json", 400, "invalid"),
    ],
)
def test_every_error_has_detail_and_code(world, method, path, body, content_type, status, code):
    client = world.client("tenant_admin")
    kwargs = {"data": body, "content_type": content_type} if body is not None else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_validation_errors_name_the_fields(world):
    response = world.client("member").post("/api/v1/sandboxes/", {"tenant": "acme"}, format="json")
    body = response.json()
    assert response.status_code == 400
    assert {"name", "catalog_item", "flavor"} <= set(body)
    assert body["code"] == "invalid"


def test_over_quota_is_409_naming_the_limit(world):
    world.acme.quota_sandboxes = 1  # alice's sandbox already holds the one
    world.acme.save()
    response = world.client("member").post(
        "/api/v1/sandboxes/",
        {"tenant": "acme", "name": "second", "catalog_item": world.item.slug, "flavor": world.flavor.name},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["dimension"], body["limit"]) == ("quota_exceeded", "sandboxes", 1)
    assert "sandboxes" in body["detail"]


def test_a_state_conflict_is_409_naming_the_state(world):
    response = world.client("tenant_admin").post(f"/api/v1/sandboxes/{world.sandbox.pk}/start/")
    assert response.status_code == 409
    assert response.json()["code"] == "state_conflict"
    assert "pending" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_cap_is_413_and_creates_nothing(world):
    response = world.client("member").post("/api/v1/tokens/", {"name": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "1024" in response.json()["detail"]
    assert not Token.objects.filter(user=world.member).exclude(name="tests").exists()


def test_unknown_page_urls_keep_the_html_404(world):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_token_auth(world):
    assert world.client("member").get("/api/v1/tenants/").status_code == 200
    bad = world.client(None)
    bad.credentials(HTTP_AUTHORIZATION="Token nope.nope")
    response = bad.get("/api/v1/tenants/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_password_for_token_then_use_it(world):
    world.member.set_password("a long enough password")
    world.member.save()
    anonymous = world.client(None)
    got = anonymous.post(
        "/api/v1/auth/token/", {"username": "bob", "password": "a long enough password"}, format="json"
    )
    assert got.status_code == 200
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {got.json()['token']}")
    assert anonymous.get("/api/v1/tokens/").status_code == 200


def test_session_writes_need_the_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.member)
    assert browser.get("/api/v1/tokens/").status_code == 200  # reads need no CSRF token
    refused = browser.post("/api/v1/tokens/", {"name": "web"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert refused.json()["code"] == "permission_denied"
    assert not Token.objects.filter(name="web").exists()

    browser.get("/")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/tokens/", {"name": "web"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 201
