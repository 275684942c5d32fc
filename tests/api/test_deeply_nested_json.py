"""Issue 21, item 6: deeply nested JSON answered 500 (Python's json parser recursed until
RecursionError), even to anonymous callers of the token endpoint. It answers 400 in the API's
error format, before any view runs."""

import pytest
from django.test import Client

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("body", [DEEP, '{"username": ' + DEEP + "}"], ids=["array", "in-a-field"])
def test_deeply_nested_json_answers_400_unauthenticated_on_the_token_endpoint(db, body):
    response = Client().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"]


def test_deeply_nested_json_answers_400_to_a_signed_in_caller(world):
    response = world.client("member").post("/api/v1/tokens/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
