"""A forged session cookie is no session, never a 500 (found by schemathesis' negative mode:
PostgreSQL refuses a NUL byte in the session lookup)."""

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["a" * 20 + "\x00" + "b" * 11, "not a key at all!", "ÄÖÜ" * 11])
def test_a_forged_session_cookie_is_no_session(key):
    client = Client()
    client.cookies["sessionid"] = key

    assert client.get("/api/v1/sandboxes/").status_code in (401, 403)
    assert client.get("/sandboxes/").status_code == 302  # to the login page
