"""/metrics is served to loopback clients and to the bearer of PORTAL_METRICS_TOKEN only."""

import pytest
from django.test import RequestFactory

from portal.metrics import metrics

TOKEN = "s3cret-metrics-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(remote_addr, **headers):
    return metrics(RequestFactory().get("/metrics", REMOTE_ADDR=remote_addr, **headers))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Token {TOKEN}"},
        {"HTTP_AUTHORIZATION": TOKEN},
    ],
)
def test_refused_from_elsewhere_without_the_token(db, headers):
    response = scrape("203.0.113.9", **headers)

    assert response.status_code == 403
    assert b"portal_" not in response.content


def test_refused_through_a_local_proxy_for_an_outside_client(db, settings):
    # A proxy on loopback, configured as trusted, names the client: the client is not local.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = scrape("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_no_token_configured_means_no_token_is_accepted(db, settings):
    settings.METRICS_TOKEN = ""

    assert scrape("203.0.113.9", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert scrape("203.0.113.9", HTTP_AUTHORIZATION="Bearer").status_code == 403


@pytest.mark.parametrize("remote_addr", ["127.0.0.1", "::1"])
def test_served_to_loopback(db, remote_addr):
    response = scrape(remote_addr)

    assert response.status_code == 200
    assert b"# TYPE portal_host_cpus gauge" in response.content


def test_served_with_the_token(db):
    response = scrape("203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert b"portal_redis_up 1.0" in response.content


def test_only_get(db):
    assert metrics(RequestFactory().post("/metrics", REMOTE_ADDR="127.0.0.1")).status_code == 405


def test_wired_at_the_site_root(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
