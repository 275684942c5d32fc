"""Writes made with a browser session need the CSRF token, in forms and in API calls alike; a
page of another site that makes the browser post (with its cookies) changes nothing."""

import re

import pytest
from django.test import Client

from tenants.models import Tenant, Token
from tenants.services.tokens import token_create

pytestmark = pytest.mark.django_db

NEW_TENANT = {
    "slug": "forged",
    "name": "Forged",
    "description": "",
    "quota_cpus": "1",
    "quota_memory_mib": "1024",
    "quota_gpus": "0",
    "quota_storage_gib": "1",
    "quota_sandboxes": "1",
}


def browser(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user:
        client.force_login(user)
    return client


def csrf_token_of(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def test_a_form_posted_without_the_token_is_refused_and_changes_nothing(world):
    client = browser(world.root)

    forged = client.post("/tenants/new/", NEW_TENANT)

    assert forged.status_code == 403
    assert not Tenant.objects.filter(slug="forged").exists()
    token = csrf_token_of(client, "/tenants/new/")
    genuine = client.post("/tenants/new/", {**NEW_TENANT, "csrfmiddlewaretoken": token})
    assert genuine.status_code == 302
    assert Tenant.objects.filter(slug="forged").exists()


def test_the_login_form_needs_the_token_too(world):
    refused = browser().post("/login/", {"username": "root", "password": "whatever"})
    assert refused.status_code == 403


def test_api_writes_with_session_auth_need_the_token(world):
    client = browser(world.root)
    body = {"name": "forged-by-session"}

    forged = client.post("/api/v1/tokens/", body, content_type="application/json")

    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    assert not Token.objects.filter(name="forged-by-session").exists()
    token = csrf_token_of(client, "/tokens/")
    genuine = client.post("/api/v1/tokens/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert genuine.status_code == 201, genuine.json()
    for method in (client.patch, client.delete):
        assert (
            method(f"/api/v1/tenants/{world.tenant.slug}/", {}, content_type="application/json").status_code
            == 403
        )
    Tenant.objects.get(slug=world.tenant.slug)


def test_token_auth_is_not_a_cookie_and_needs_no_csrf_token(world):
    _token, key = token_create(user=world.root, name="script")
    client = Client(enforce_csrf_checks=True)  # no session at all
    response = client.post(
        "/api/v1/tokens/",
        {"name": "made-by-script"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 201, response.json()
