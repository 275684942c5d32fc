"""Every endpoint and method of /api/v1/, enumerated from the OpenAPI schema (so an endpoint
added later is in the matrix without editing it), against two tenants and the roles:

- mallory, admin of globex, gets 404 on every read and write of acme's objects, and acme's
  objects never appear in what she lists;
- bob, a member of acme, gets 403 on admin actions and on writes to alice's sandbox;
- nobody anonymous gets past 401;
and none of these requests changes anything in the database.
"""

import json

import pytest
from django.apps import apps

from tests.api.conftest import fill_path, operations

# Collections whose objects belong to a tenant: a foreign one is a 404.
TENANT_OWNED = {"tenants", "sandboxes", "operations", "datataps", "jobs", "endpoints"}
# Collections only site admins reach at all.
SITE_ADMIN_ONLY = {"hosts", "pools", "datatap-prefixes", "catalog-builds", "users", "group-mappings"}
# Site-wide collections everybody reads and only site admins change.
CURATED = {"catalog", "flavors"}
# Per-user collections: another user's object is a 404, whatever the role.
USER_OWNED = {"tokens"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def bodies(world) -> dict[tuple[str, str], dict]:
    """Valid bodies, so that a refusal is never a 400 that hides a missing 403 or 404."""
    return {
        ("POST", "/api/v1/tenants/"): {"slug": "initech", "name": "Initech"},
        ("PATCH", "/api/v1/tenants/{slug}/"): {"name": "Renamed"},
        ("POST", "/api/v1/tenants/{slug}/members/"): {"username": "mallory", "role": "admin"},
        ("PATCH", "/api/v1/tenants/{slug}/members/{username}/"): {"role": "admin"},
        ("POST", "/api/v1/sandboxes/"): {
            "tenant": "acme",
            "name": "intruder",
            "catalog_item": world.item.slug,
            "flavor": world.flavor.name,
        },
        ("POST", "/api/v1/sandboxes/{id}/resize/"): {"nodes": {"head": 1}},
        ("POST", "/api/v1/sandboxes/{id}/jobs/"): {"command": "id", "nodes": "all"},
        ("POST", "/api/v1/datataps/"): {
            "tenant": "acme",
            "name": "intruder",
            "kind": "hostpath",
            "path": "/srv/acme-data/y",
        },
        ("POST", "/api/v1/datatap-prefixes/"): {"path": "/srv/elsewhere"},
        ("POST", "/api/v1/hosts/"): {"name": "rogue", "url": "unix:///var/run/rogue.sock"},
        ("PATCH", "/api/v1/hosts/{id}/"): {"state": "disabled"},
        ("POST", "/api/v1/pools/"): {"catalog_item": world.item.slug, "flavor": world.flavor.name, "size": 1},
        ("POST", "/api/v1/endpoints/"): {
            "tenant": "acme",
            "name": "intruder",
            "model": {"name": "line", "version": "1"},
            "replicas": {"min": 1, "max": 1},
            "flavor": world.flavor.name,
        },
        ("PATCH", "/api/v1/endpoints/{id}/"): {"replicas": {"min": 1, "max": 2}},
        ("POST", "/api/v1/endpoints/{id}/keys/"): {"name": "stolen"},
        ("PATCH", "/api/v1/catalog/{slug}/"): {"enabled": False},
        ("POST", "/api/v1/flavors/"): {
            "name": "huge",
            "cpus": "64",
            "memory_mib": 65536,
            "gpus": 0,
            "disk_gib": 1,
        },
        ("PATCH", "/api/v1/flavors/{name}/"): {"cpus": "64"},
    }


def expected(role: str, method: str, path: str) -> int | None:
    """What `role` must get, or None where the matrix does not decide (own reads, creates of
    one's own): those requests are not sent, so nothing may change the database."""
    segments = path.strip("/").split("/")[2:]  # after api/v1
    collection = segments[0]
    on_object = len(segments) > 1 and segments[1].startswith("{")
    if collection in SITE_ADMIN_ONLY:
        return 403
    if collection in USER_OWNED and on_object:
        return 404  # the objects are alice's tokens
    if collection in CURATED and method in WRITES:
        return 403
    if method == "POST" and path == "/api/v1/tenants/":
        return 403
    if role == "outsider":
        if collection in TENANT_OWNED and on_object:
            return 404
        if method == "POST" and collection in {"sandboxes", "datataps", "endpoints"} and not on_object:
            return 404  # the body names acme
    if role == "member":
        if collection == "tenants" and on_object and (method in WRITES or "members" in segments):
            return 403
        if collection == "datataps" and method in {"POST", "DELETE"}:
            return 403
        if collection in {"sandboxes", "jobs"} and on_object and method in WRITES:
            return 403  # alice's sandbox and alice's job
        if collection == "audit":
            return 403
    return None


def database_state() -> dict[str, list]:
    """Every row of our apps, but the audit log (it records the refusals, as it should)."""
    state = {}
    for app in ("tenants", "identity", "catalog", "provisioning", "tracking", "serving"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.label in {"tenants.AuditEvent", "tenants.Token"}:
                continue  # tokens: last_used moves with each authenticated request
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


def test_every_path_parameter_has_an_object(world, openapi):
    """A new endpoint under a new collection fails here until World gets an object for it."""
    values = world.path_values()
    for _method, path in operations(openapi):
        fill_path(path, values)


@pytest.mark.parametrize("role", ["outsider", "member"])
def test_no_cross_tenant_access_and_no_escalation(world, openapi, role):
    values = world.path_values()
    payloads = bodies(world)
    client = world.client(role)
    before = database_state()
    checked = []
    wrong = []
    for method, path in operations(openapi):
        want = expected(role, method, path)
        if want is None:
            continue
        response = client.generic(
            method,
            fill_path(path, values),
            json.dumps(payloads.get((method, path), {})),
            content_type="application/json",
        )
        checked.append((method, path))
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, wanted {want}: {response.content[:200]}")
        elif set(response.json()) < {"detail", "code"}:
            wrong.append(f"{method} {path}: error body without detail and code: {response.json()}")
    assert not wrong, "\n".join(wrong)
    assert database_state() == before
    # The matrix did decide: the admin actions the issue names are in it.
    assert ("PATCH", "/api/v1/tenants/{slug}/") in checked
    assert ("POST", "/api/v1/hosts/") in checked
    assert ("DELETE", "/api/v1/datataps/{id}/") in checked


def test_outsider_lists_show_nothing_of_the_other_tenant(world, openapi):
    client = world.client("outsider")
    looked = 0
    for method, path in operations(openapi):
        if method != "GET" or "{" in path or expected("outsider", method, path) is not None:
            continue
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        text = response.content.decode()
        for secret in ("acme", world.sandbox.name, world.datatap.name, "alice", '"bob"'):
            assert secret not in text, f"GET {path} shows {secret!r} to another tenant's admin"
        looked += 1
    assert looked >= 5


def test_outsider_filters_by_the_other_tenant_find_nothing(world):
    client = world.client("outsider")
    for path in ("/api/v1/sandboxes/?tenant=acme", "/api/v1/datataps/?tenant=acme"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json()["count"] == 0
    assert client.get("/api/v1/usage/?tenant=acme").status_code == 404


def test_anonymous_gets_401_everywhere_but_login(world, openapi):
    client = world.client(None)
    values = world.path_values()
    before = database_state()
    for method, path in operations(openapi):
        if path == "/api/v1/auth/token/":
            continue
        response = client.generic(method, fill_path(path, values), "{}", content_type="application/json")
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.json()["code"] == "not_authenticated"
    assert database_state() == before


def test_tenant_admin_of_acme_may_do_what_the_member_may_not(world):
    """The same requests pass for alice: the 403s above are about the role, not the request."""
    client = world.client("tenant_admin")
    assert client.patch("/api/v1/tenants/acme/", {"name": "Acme Corp"}, format="json").status_code == 200
    assert client.get("/api/v1/tenants/acme/members/").status_code == 200
    assert client.delete(f"/api/v1/datataps/{world.datatap.pk}/").status_code == 204


def test_another_tenants_objects_are_404_before_any_body_is_read(world, openapi):
    """An empty body would be a 400 on most writes: the 404 comes first, so that a validation
    message never tells another tenant that the object exists."""
    client = world.client("outsider")
    values = world.path_values()
    for method, path in operations(openapi):
        segments = path.strip("/").split("/")[2:]
        if method in WRITES and segments[0] in TENANT_OWNED and len(segments) > 1:
            response = client.generic(method, fill_path(path, values), "{}", content_type="application/json")
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
