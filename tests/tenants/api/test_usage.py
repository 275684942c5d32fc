"""GET /api/v1/usage/: JSON and CSV, validation, and tenant isolation."""

import csv
import io

import pytest

from tests.tenants.conftest import api_client_for
from tests.tenants.ledger import NOW, ledger_fixture  # noqa: F401 - fixture

URL = "/api/v1/usage/"
PERIOD = {"since": "2026-01-30", "until": "2026-02-03"}


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("tenants.selectors.accounting.timezone.now", lambda: NOW)


def test_json_report(ledger, frozen_now):
    response = api_client_for(ledger.tenant_admin).get(URL, {**PERIOD, "tenant": "acme", "group_by": "day"})

    assert response.status_code == 200
    body = response.json()
    assert (body["since"], body["until"], body["group_by"], body["tenant"]) == (
        "2026-01-30T00:00:00+00:00",
        "2026-02-03T00:00:00+00:00",
        "day",
        "acme",
    )
    assert body["totals"] == {
        "core_hours": 121.5,
        "memory_gib_hours": 240,
        "gpu_hours": 60,
        "sandbox_hours": 24,
        "storage_gib_hours": 240,
    }
    assert [(p["period"], p["core_hours"]) for p in body["periods"]] == [
        ("2026-01-30", 12),
        ("2026-01-31", 48),
        ("2026-02-01", 49.5),
        ("2026-02-02", 12),
    ]
    assert [(u["user"], u["gpu_hours"]) for u in body["users"]] == [("alice", 0), ("bob", 60)]
    assert [i["catalog_item"] for i in body["catalog_items"]] == ["jupyter", "pytorch-ddp"]
    assert {
        "period": "2026-02-01",
        "tenant": "acme",
        "user": "alice",
        "catalog_item": "pytorch-ddp",
        "core_hours": 1.5,
        "memory_gib_hours": 0,
        "gpu_hours": 0,
        "sandbox_hours": 0,
        "storage_gib_hours": 0,
    } in body["rows"]


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv_report(ledger, frozen_now, how):
    client = api_client_for(ledger.tenant_admin)
    params = {**PERIOD, "group_by": "month"}
    if how == "query":
        response = client.get(URL, {**params, "format": "csv"})
    else:
        response = client.get(URL, params, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="usage-all-20260130-20260203.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [
        "period",
        "tenant",
        "user",
        "catalog_item",
        "core_hours",
        "memory_gib_hours",
        "gpu_hours",
        "sandbox_hours",
        "storage_gib_hours",
    ]
    assert [(r["period"], r["user"], r["catalog_item"], float(r["core_hours"])) for r in rows] == [
        ("2026-01-01", "bob", "jupyter", 60.0),
        ("2026-02-01", "alice", "pytorch-ddp", 1.5),
        ("2026-02-01", "bob", "jupyter", 60.0),
    ]


def test_another_tenant_is_not_found(ledger, frozen_now):
    response = api_client_for(ledger.outsider).get(URL, {**PERIOD, "tenant": "acme"})

    assert response.status_code == 404
    assert "acme" not in response.content.decode()
    own = api_client_for(ledger.outsider).get(URL, PERIOD).json()
    assert [t["tenant"] for t in own["tenants"]] == ["globex"]


def test_members_get_their_own_usage_only(ledger, frozen_now):
    body = api_client_for(ledger.member).get(URL, {**PERIOD, "tenant": "acme"}).json()

    assert [u["user"] for u in body["users"]] == ["bob"]
    assert body["totals"]["core_hours"] == 120


def test_anonymous_is_refused(ledger):
    assert api_client_for(None).get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"since": "2026-02-01", "until": "2026-02-01"}, "until"),
        ({"group_by": "week"}, "group_by"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "until"),
        ({"since": "1800-01-01", "until": "1800-02-01"}, "since"),
        ({"tenant": "Not a slug!"}, "tenant"),
    ],
)
def test_bad_queries_answer_400_with_the_field(ledger, params, field):
    response = api_client_for(ledger.site_admin).get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body and body[field]


def test_defaults_cover_the_last_thirty_days(ledger):
    body = api_client_for(ledger.site_admin).get(URL).json()

    assert body["group_by"] == "day"
    assert len(body["periods"]) == 30
