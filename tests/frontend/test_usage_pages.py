"""The usage page: the report, its chart and CSV link, tenants side by side and hosts for
site admins, and nothing of another tenant."""

import re
from decimal import Decimal

import pytest

from frontend.charts import stacked_bar_chart
from provisioning.models import Host, Node
from tests.tenants.conftest import world  # noqa: F401 - fixture
from tests.tenants.ledger import NOW, ledger_fixture  # noqa: F401 - fixture

PERIOD = "since=2026-01-30&until=2026-02-03"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("tenants.selectors.accounting.timezone.now", lambda: NOW)


def page(client, user, query=PERIOD):
    client.force_login(user)
    return client.get(f"/usage/?{query}")


def table(html, table_id) -> list[list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_tenant_admin_sees_the_tenant_report_with_chart_and_csv(client, ledger):
    response = page(client, ledger.tenant_admin)

    assert response.status_code == 200
    html = response.content.decode()
    assert table(html, "usage-totals") == [["121.50", "240.00", "60.00", "24.00", "240.00"]]
    assert [row[:2] for row in table(html, "usage-periods")] == [
        ["2026-01-30", "12.00"],
        ["2026-01-31", "48.00"],
        ["2026-02-01", "49.50"],
        ["2026-02-02", "12.00"],
    ]
    assert [row[:2] for row in table(html, "usage-users")] == [["alice", "1.50"], ["bob", "120.00"]]
    assert html.count('class="usage-bar"') == 5  # bob on four days, alice on one, stacked by user
    assert "<title>2026-02-01 · alice: 1.5 Core-hours</title>" in html
    csv_link = re.search(r'id="usage-csv" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert csv_link.startswith("/api/v1/usage/?tenant=acme&")
    assert "format=csv" in csv_link
    assert 'id="usage-hosts"' not in html and 'id="usage-tenants"' not in html
    assert client.get(csv_link).status_code == 200  # the browser session may download it


def test_site_admin_sees_tenants_side_by_side_and_hosts(client, ledger):
    host = Host.objects.create(
        name="gpu-1",
        url="fake://gpu-1",
        cpus=8,
        memory_mib=65536,
        gpus=[{"index": 0, "uuid": "GPU-1", "model": "H100"}, {"index": 1, "uuid": "GPU-2", "model": "H100"}],
    )
    assert Node.objects.count() == 0

    html = page(client, ledger.site_admin).content.decode()

    tenants = table(html, "usage-tenants")
    assert [(row[0], row[1]) for row in tenants] == [("acme", "121.50"), ("globex", "48.00")]
    assert tenants[0][-2:] == ["0 / 64", "0 / 8"]  # acme holds the open slot only, no cores
    assert table(html, "usage-hosts") == [[host.name, "ready", "0", "0 / 32 0%", "0 / 65536 0%", "0 / 2 0%"]]
    assert html.count('class="usage-bar"') == 4 + 1  # stacked by tenant: acme on four days, globex on one


def test_another_tenant_is_not_found(client, ledger):
    assert page(client, ledger.outsider, f"tenant=acme&{PERIOD}").status_code == 404


def test_members_see_their_own_usage(client, ledger):
    html = page(client, ledger.member).content.decode()

    assert [row[0] for row in table(html, "usage-users")] == ["bob"]
    assert "alice" not in html


def test_bad_input_is_explained(client, ledger):
    response = page(client, ledger.tenant_admin, "since=2026-02-01&until=2026-01-01")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Must be later than since." in html
    assert 'id="usage-totals"' not in html


def test_chart_bars_are_stacked_in_proportion():
    chart = stacked_bar_chart(
        labels=["d1", "d2"],
        series={"a": [Decimal("3"), Decimal("0")], "b": [Decimal("1"), Decimal("4")]},
        unit="h",
    )

    heights = [(bar.title, bar.height) for bar in chart.bars]
    assert [title for title, _ in heights] == ["d1 · a: 3 h", "d1 · b: 1 h", "d2 · b: 4 h"]
    a1, b1, b2 = (height for _, height in heights)
    assert a1 == pytest.approx(3 * b1) and b2 == pytest.approx(4 * b1)
    assert chart.y_ticks[-1].text == "5"  # 4 rounded up to a readable scale
    assert chart.bars[1].y + chart.bars[1].height == pytest.approx(chart.bars[0].y)  # b sits on a


@pytest.mark.parametrize("who", ["site_admin", "tenant_admin", "member"])
def test_first_visit_shows_the_last_thirty_days(client, ledger, who):
    response = page(client, getattr(ledger, who), "")

    html = response.content.decode()
    assert response.status_code == 200
    assert len(table(html, "usage-periods")) == 30
    assert 'value="2026-01-03"' in html and 'value="2026-02-02"' in html  # NOW is Feb 1, noon
