import pytest
from rest_framework.test import APIClient

from tests.catalog.factories import CatalogItemFactory


@pytest.fixture
def api():
    return APIClient()


def test_everyone_signed_in_lists_the_flavors_smallest_first(api, member):
    api.force_authenticate(member)

    body = api.get("/api/v1/flavors/").json()

    assert [f["name"] for f in body["results"]] == ["small", "medium", "gpu", "large"]
    assert body["results"][0] == {
        "name": "small",
        "description": "1 CPU, 2 GiB: a notebook for light work",
        "cpus": "1.00",
        "memory_mib": 2048,
        "gpus": 0,
        "disk_gib": 10,
    }


def test_site_admin_creates_changes_and_deletes_a_flavor(api, site_admin):
    api.force_authenticate(site_admin)

    created = api.post("/api/v1/flavors/", {"name": "xl", "cpus": "8", "memory_mib": 32768, "gpus": 0})
    changed = api.patch("/api/v1/flavors/xl/", {"memory_mib": 65536}, format="json")
    deleted = api.delete("/api/v1/flavors/xl/")

    assert created.status_code == 201, created.json()
    assert changed.json()["memory_mib"] == 65536
    assert deleted.status_code == 204
    assert api.get("/api/v1/flavors/xl/").status_code == 404


def test_bad_flavors_are_400_with_field_errors(api, site_admin):
    api.force_authenticate(site_admin)

    response = api.post("/api/v1/flavors/", {"name": "small", "cpus": "0", "memory_mib": -1})

    assert response.status_code == 400
    body = response.json()
    assert body["name"] == ["flavor with this name already exists."]
    assert body["cpus"] == ["Ensure this value is greater than or equal to 0.01."]
    assert body["memory_mib"] == ["Ensure this value is greater than or equal to 64."]
    assert api.patch("/api/v1/flavors/small/", {"name": "tiny"}, format="json").json()["name"] == [
        "A flavor's name cannot change."
    ]


def test_deleting_a_default_flavor_keeps_the_item(api, site_admin):
    item = CatalogItemFactory()
    api.force_authenticate(site_admin)

    assert api.delete("/api/v1/flavors/small/").status_code == 204
    item.refresh_from_db()
    assert item.default_flavor is None


def test_members_cannot_change_flavors(api, member):
    api.force_authenticate(member)

    assert api.post("/api/v1/flavors/", {"name": "x", "cpus": 1, "memory_mib": 128}).status_code == 403
    assert api.delete("/api/v1/flavors/small/").status_code == 403
