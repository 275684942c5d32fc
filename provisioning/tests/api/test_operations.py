"""The operations API: each operation says which phases it passed and how long each took."""

from rest_framework.test import APIClient

BRING_UP = ["queued", "placed", "network", "started", "ready"]


def test_an_operation_lists_its_phases_with_times(member, cluster):
    client = APIClient()
    client.force_authenticate(member)
    create = cluster.operations.get()

    body = client.get(f"/api/v1/operations/{create.pk}/").json()

    assert [mark["phase"] for mark in body["phases"]] == BRING_UP
    assert [mark["label"] for mark in body["phases"]][-1] == "Every node answers"
    assert body["phases"][0]["took_s"] == 0
    assert all(mark["took_s"] >= 0 for mark in body["phases"])
    listed = client.get(f"/api/v1/sandboxes/{cluster.pk}/operations/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["phases"] == body["phases"]
