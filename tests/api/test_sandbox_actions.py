"""A sandbox's `actions`: what the caller may ask of it now, by the state table and by who may
manage it (its owner, its tenant's admins, site admins). The sandbox page offers the same."""

import pytest

from provisioning.models import Sandbox
from provisioning.services.sandboxes import sandbox_create
from provisioning.states import SandboxStatus


def _actions(world, role: str, sandbox: Sandbox) -> list[str]:
    response = world.client(role).get(f"/api/v1/sandboxes/{sandbox.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["actions"]


def _set(sandbox: Sandbox, status: str) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(status=status)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("site_admin", ["stop", "resize", "delete"]),
        ("tenant_admin", ["stop", "resize", "delete"]),  # alice owns it and administers acme
        ("member", []),  # bob sees acme's sandboxes but manages only his own
    ],
)
def test_actions_follow_who_may_manage_the_sandbox(world, role, expected):
    _set(world.sandbox, SandboxStatus.RUNNING)

    assert _actions(world, role, world.sandbox) == expected


def test_another_tenants_admin_gets_no_sandbox_at_all(world):
    response = world.client("outsider").get(f"/api/v1/sandboxes/{world.sandbox.pk}/")
    assert response.status_code == 404


def test_a_member_manages_his_own_sandbox_and_a_tenant_admin_every_sandbox_of_the_tenant(world):
    bobs = sandbox_create(
        owner=world.member, tenant=world.acme, name="bobs-box", catalog_item=world.item.slug, flavor="small"
    )
    _set(bobs, SandboxStatus.STOPPED)

    assert _actions(world, "member", bobs) == ["start", "delete"]
    assert _actions(world, "tenant_admin", bobs) == ["start", "delete"]
    assert _actions(world, "site_admin", bobs) == ["start", "delete"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (SandboxStatus.PENDING, ["delete"]),
        (SandboxStatus.PROVISIONING, ["delete"]),
        (SandboxStatus.RUNNING, ["stop", "resize", "delete"]),
        (SandboxStatus.STOPPING, ["delete"]),
        (SandboxStatus.STOPPED, ["start", "delete"]),
        (SandboxStatus.ERROR, ["delete"]),
        (SandboxStatus.UNKNOWN, ["stop", "delete"]),
        (SandboxStatus.DELETED, []),
    ],
)
def test_actions_follow_the_state(world, status, expected):
    _set(world.sandbox, status)

    assert _actions(world, "tenant_admin", world.sandbox) == expected


def test_lists_carry_actions_too(world):
    _set(world.sandbox, SandboxStatus.RUNNING)
    rows = {row["name"]: row for row in world.client("member").get("/api/v1/sandboxes/").json()["results"]}
    assert rows["acme-box"]["actions"] == []
    rows = {
        row["name"]: row for row in world.client("site_admin").get("/api/v1/sandboxes/").json()["results"]
    }
    assert rows["acme-box"]["actions"] == ["stop", "resize", "delete"]


def test_an_action_not_listed_is_refused(world):
    _set(world.sandbox, SandboxStatus.STOPPED)
    assert "stop" not in _actions(world, "tenant_admin", world.sandbox)

    response = world.client("tenant_admin").post(f"/api/v1/sandboxes/{world.sandbox.pk}/stop/")

    assert response.status_code == 409


def test_the_schema_lists_the_possible_actions(openapi):
    actions = openapi["components"]["schemas"]["SandboxOutput"]["properties"]["actions"]
    assert actions["type"] == "array" and actions["readOnly"] is True
    item = actions["items"]
    if "$ref" in item:
        item = openapi["components"]["schemas"][item["$ref"].rsplit("/", 1)[1]]
    assert item["enum"] == ["start", "stop", "resize", "delete"]
