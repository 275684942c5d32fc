"""Every page the portal serves carries the security headers and a Content-Security-Policy that
runs only the portal's own scripts, and no page relies on what that policy refuses."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from portal.security import content_security_policy

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
# A <script> element that runs inline code: neither a src= nor a JSON data block.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) == "admin/":
                continue  # the admin site: enumerated from its registry below
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _value(route: str, name: str, world) -> str:
    """The id of a real object for each parameter, picked by the collection the route names."""
    head = route[: route.index(f":{name}>")]
    collection = head[: head.rindex("<")].rstrip("/").split("/")[-1]
    values = {
        ("sandboxes", "pk"): world.sandbox.pk,
        ("operations", "pk"): world.operation.pk,
        ("jobs", "pk"): world.job.pk,
        ("hosts", "pk"): world.host.pk,
        ("datataps", "pk"): world.datatap.pk,
        ("prefixes", "pk"): world.prefix.pk,
        ("datatap-prefixes", "pk"): world.prefix.pk,
        ("tokens", "pk"): world.token.pk,
        ("builds", "pk"): world.build.pk,
        ("catalog-builds", "pk"): world.build.pk,
        ("notebooks", "pk"): world.sandbox.pk,
        ("tenants", "slug"): world.tenant.slug,
        ("apps", "slug"): world.item.slug,
        ("catalog", "slug"): world.item.slug,
        ("flavors", "name"): world.flavor.name,
        ("members", "username"): world.member.username,
    }
    # A route this table does not know yet still answers (404) and is checked for its headers.
    return str(values.get((collection, name), 0))


def page_urls(world) -> list[str]:
    urls = []
    for route in _routes(get_resolver().url_patterns):
        urls.append("/" + PARAM.sub(lambda m, r=route: _value(r, m["name"], world), route))
    urls.append("/admin/")
    for model in admin.site._registry:
        info = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [info, info + "add/"]
        if first := model.objects.first():
            urls.append(f"{info}{first.pk}/change/")
    return urls


def assert_secure_headers(response, url):
    for header, value in EXPECTED.items():
        assert response.headers.get(header) == value, (url, header, response.headers.get(header))
    assert response.headers["Content-Security-Policy"] == content_security_policy(), url
    assert "camera=()" in response.headers["Permissions-Policy"], url


def test_content_security_policy_allows_only_the_portal_itself():
    policy = dict((directive.split(" ", 1) + [""])[:2] for directive in content_security_policy().split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert "unsafe-eval" not in content_security_policy()


def test_every_page_sends_the_headers_and_needs_no_inline_script(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.root)
    urls = page_urls(world)
    assert len(urls) > 80  # the enumeration found the whole site, admin included
    rendered = 0
    for url in urls:
        response = client.get(url)
        # /healthz answers 503 here: no worker runs and the fake host is no engine.
        assert response.status_code < 500 or url == "/healthz", (url, response.status_code)
        assert_secure_headers(response, url)
        if response.status_code == 200 and response.headers.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode()
            assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html)[0])
            assert not STYLE_ELEMENT.search(html), url
            assert not EVENT_HANDLER.search(html), (url, EVENT_HANDLER.search(html)[0])
            rendered += 1
    assert rendered > 30  # the pages of the site (the OAuth2 admin pages left with the Hub)


def test_anonymous_pages_static_files_and_errors_carry_them_too(world, settings):
    client = Client()
    for url in ("/login/", "/healthz", "/api/v1/sandboxes/", "/no/such/page/", "/api/docs/?script"):
        assert_secure_headers(client.get(url), url)


def test_static_files_served_by_whitenoise_carry_them(settings):
    # WhiteNoise answers from its own index before the inner middleware run; let it find the
    # files where they lie instead of in a collected STATIC_ROOT.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/frontend/portal.css")
    assert response.status_code == 200 and "htmx-indicator" in b"".join(response.streaming_content).decode()
    assert_secure_headers(response, "/static/frontend/portal.css")


def test_the_api_docs_page_loads_its_script_from_a_file(world):
    client = Client()
    client.force_login(world.root)
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui-bundle.js" in html and "/static/drf_spectacular_sidecar/" in html
    assert not INLINE_SCRIPT.search(html)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
