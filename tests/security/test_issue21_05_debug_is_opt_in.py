"""Issue 21, item 5: `make run` served Django's debug pages (PORTAL_DEBUG defaulted to true):
anonymous visitors saw settings, stack frames and the URL map, and API 404s were HTML."""

import urllib.error
import urllib.request

import pytest

from tests.security.web_process import ROOT, WebProcess

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def default_portal():
    web = WebProcess(ROOT / "var" / "test-web-default.log")
    try:
        yield web.wait_ready()
    finally:
        web.stop()


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own test server
            return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def test_an_unknown_page_shows_no_debug_information(default_portal):
    status, _type, body = _get(f"{default_portal.url}/no-such-page/")

    assert status == 404
    assert "URLconf" not in body and "DEBUG = True" not in body
    assert "api/v1/" not in body  # the URL map


def test_an_unknown_api_url_answers_in_the_api_format(default_portal):
    status, content_type, body = _get(f"{default_portal.url}/api/v1/no-such-thing/")

    assert status == 404
    assert content_type == "application/json"
    assert '"code": "not_found"' in body


def test_debug_stays_available_to_who_asks_for_it():
    web = WebProcess(ROOT / "var" / "test-web-debug.log", PORTAL_DEBUG="1")
    try:
        status, _type, body = _get(f"{web.wait_ready().url}/no-such-page/")
    finally:
        web.stop()

    assert status == 404 and "URLconf" in body
