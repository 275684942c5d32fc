"""The create throttle: per token (per user for sessions), creates only, 429 with Retry-After in
the API's error format, counted in the shared Redis cache."""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from common.api.throttling import CreateRateThrottle
from tenants.models import Token


def _forget(*idents: str) -> None:
    """Counts live in Redis across test runs, and ids repeat in a fresh test database."""
    cache.delete_many([CreateRateThrottle.cache_format % {"scope": "create", "ident": i} for i in idents])


@pytest.fixture
def member_token(world):
    token = Token.objects.get(user=world.member, name="tests")
    _forget(f"token-{token.pk}", f"user-{world.member.pk}")
    yield token
    _forget(f"token-{token.pk}", f"user-{world.member.pk}")


@override_settings(PORTAL_CREATE_RATE="2/min")
def test_creates_over_the_rate_get_429_with_retry_after(world, member_token):
    client = world.client("member")
    statuses = [
        client.post("/api/v1/tokens/", {"name": f"t{i}"}, format="json").status_code for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    refused = client.post("/api/v1/tokens/", {"name": "again"}, format="json")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"]
    assert not Token.objects.filter(name__in=["t2", "again"]).exists()


@override_settings(PORTAL_CREATE_RATE="1/min")
def test_reads_and_actions_are_not_throttled(world, member_token):
    client = world.client("member")
    assert client.post("/api/v1/tokens/", {"name": "one"}, format="json").status_code == 201
    assert client.post("/api/v1/tokens/", {"name": "two"}, format="json").status_code == 429
    assert [client.get("/api/v1/tokens/").status_code for _ in range(3)] == [200, 200, 200]


@override_settings(PORTAL_CREATE_RATE="1/min")
def test_each_token_has_its_own_budget_and_sessions_count_per_user(world, member_token):
    client = world.client("member")
    assert client.post("/api/v1/tokens/", {"name": "one"}, format="json").status_code == 201
    assert client.post("/api/v1/tokens/", {"name": "two"}, format="json").status_code == 429
    session = world.client(None)
    session.force_login(world.member)
    # A session has no token, so it counts per user, apart from the token's count.
    assert session.post("/api/v1/tokens/", {"name": "web"}, format="json").status_code == 201
    assert session.post("/api/v1/tokens/", {"name": "web2"}, format="json").status_code == 429


@override_settings(PORTAL_CREATE_RATE="1/min")
def test_the_count_is_in_the_shared_cache(world, member_token):
    """Another web worker reads the same count: it lives in Redis, not in the process."""
    client = world.client("member")
    client.post("/api/v1/tokens/", {"name": "one"}, format="json")
    key = CreateRateThrottle.cache_format % {"scope": "create", "ident": f"token-{member_token.pk}"}
    assert len(cache.get(key)) == 1
    location = settings.CACHES["default"]["LOCATION"]
    assert redis.Redis.from_url(location).exists(cache.make_key(key)) == 1
