"""Server-owned fields (ids, tenant on update, owner, status, host, usage, timestamps...) cannot
be set through the API: no request body documents them, and sending them changes nothing."""

from tenants.models import Membership, Token
from tests.api.conftest import operations

SERVER_OWNED = {
    "id",
    "owner",
    "status",
    "status_detail",
    "usage",
    "created",
    "updated",
    "created_by",
    "requested_by",
    "host",
    "endpoints",
    "prefix",
    "key",
    "last_used",
    "user",
}
# Where one of those names is a real input (none now).
INPUTS: dict[tuple[str, str], set[str]] = {}


def _request_properties(openapi, operation: dict) -> set[str]:
    content = operation.get("requestBody", {}).get("content", {})
    names = set()
    for media in content.values():
        schema = media["schema"]
        if "$ref" in schema:
            schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        names |= set(schema.get("properties", {}))
    return names


def test_no_request_body_accepts_a_server_owned_field(openapi):
    offending = {}
    for method, path in operations(openapi):
        names = _request_properties(openapi, openapi["paths"][path][method.lower()])
        bad = (names & SERVER_OWNED) - INPUTS.get((method, path), set())
        if bad:
            offending[f"{method} {path}"] = sorted(bad)
    assert not offending


def test_sandbox_create_ignores_owner_status_host_and_ids(world):
    response = world.client("member").post(
        "/api/v1/sandboxes/",
        {
            "tenant": "acme",
            "name": "mine",
            "catalog_item": world.item.slug,
            "flavor": world.flavor.name,
            "id": 424242,
            "owner": "alice",
            "status": "running",
            "status_detail": "fine",
            "created": "2000-01-01T00:00:00Z",
            "endpoints": [{"service": "x", "url": "http://evil"}],
            "nodes_host": "elsewhere",
            "host": "elsewhere",
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["id"] != 424242
    assert body["owner"] == "bob"
    assert body["status"] == "pending"
    assert not body["created"].startswith("2000")
    assert body["endpoints"] == []


def test_tenant_update_ignores_slug_usage_and_created(world):
    before = world.client("site_admin").get("/api/v1/tenants/acme/").json()
    response = world.client("site_admin").patch(
        "/api/v1/tenants/acme/",
        {
            "name": "Acme Corp",
            "slug": "hijacked",
            "usage": {"cpus": 0, "memory_mib": 0, "gpus": 0, "storage_gib": 0, "sandboxes": 0},
            "created": "2000-01-01T00:00:00Z",
            "id": 1,
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Acme Corp"
    assert body["slug"] == "acme"
    assert body["usage"] == before["usage"]
    assert body["usage"]["sandboxes"] == 1  # alice's sandbox still counts
    assert body["created"] == before["created"]


def test_tenant_admin_cannot_raise_quota_through_the_tenant_body(world):
    response = world.client("tenant_admin").patch(
        "/api/v1/tenants/acme/", {"quota": {"cpus": 999}}, format="json"
    )
    assert response.status_code == 403
    world.acme.refresh_from_db()
    assert world.acme.quota_cpus == 8


def test_datatap_create_ignores_created_by_and_tenant_of_the_sandboxes(world):
    response = world.client("tenant_admin").post(
        "/api/v1/datataps/",
        {
            "tenant": "acme",
            "name": "shared",
            "kind": "hostpath",
            "path": "/srv/acme-data/shared",
            "created_by": "root",
            "sandboxes": ["acme-box"],
            "mount_path": "/etc",
            "id": 31337,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created_by"] == "alice"
    assert body["sandboxes"] == []
    assert body["mount_path"] == "/data/shared"
    assert body["id"] != 31337


def test_member_role_change_cannot_rename_or_move_the_user(world):
    response = world.client("tenant_admin").patch(
        "/api/v1/tenants/acme/members/bob/",
        {"role": "admin", "username": "root", "tenant": "globex", "created": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["username"] == "bob"
    membership = Membership.objects.get(user=world.member)
    assert (membership.tenant, membership.role) == (world.acme, Membership.Role.ADMIN)


def test_token_create_ignores_chosen_key_user_and_expiry_bookkeeping(world):
    response = world.client("member").post(
        "/api/v1/tokens/",
        {
            "name": "ci",
            "key": "chosen.key",
            "prefix": "chosen",
            "user": "root",
            "last_used": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["key"] != "chosen.key"
    assert body["prefix"] != "chosen"
    assert body["last_used"] is None
    assert Token.objects.get(pk=body["id"]).user == world.member
