"""The usage report in a real headless Chromium: the tenant admin reaches it from the menu,
reads the chart and the totals, and downloads the CSV."""

import csv
import io
from decimal import Decimal

import pytest

from provisioning.models import Host
from tenants.resources import Resources
from tenants.tests.factories import PASSWORD
from tests.browser.fixtures import login, screenshot
from tests.tenants.ledger import at, hold

pytestmark = pytest.mark.django_db(transaction=True)


def test_tenant_admin_reads_the_report_and_downloads_the_csv(new_page, world):
    # Grace: 2 cores from Jan 31 20:00 to Feb 1 04:00 (4 + 4 hours); alan: 1 core on Feb 2 for 6 hours.
    hold(
        world.tenant,
        world.member,
        "b-node-1",
        Resources(cpus=Decimal("2"), memory_mib=4096),
        start=at(1, 31, 20),
        end=at(2, 1, 4),
    )
    hold(
        world.tenant,
        world.admin,
        "b-node-2",
        Resources(cpus=Decimal("1"), memory_mib=1024),
        start=at(2, 2, 9),
        end=at(2, 2, 15),
        item="pytorch-ddp",
    )
    page = new_page()
    login(page, username="alan", password=PASSWORD)

    page.get_by_role("link", name="Usage").click()
    page.get_by_label("Since").fill("2026-01-30")
    page.get_by_label("Until (not included)").fill("2026-02-04")
    page.get_by_role("button", name="Show").click()

    chart = page.locator("svg.usage-chart")
    assert chart.is_visible()
    assert chart.locator("rect.usage-bar").count() == 3  # grace on Jan 31 and Feb 1, alan on Feb 2
    totals = page.locator("#usage-totals tbody td").all_inner_texts()
    assert totals[:2] == ["22.00", "38.00"]  # core-hours 2x8 + 6, memory GiB-hours 4x8 + 1x6
    assert page.locator("#usage-users tbody tr").all_inner_texts()[0].split()[:2] == ["alan", "6.00"]
    screenshot(page, "usage-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "usage-lab-20260130-20260204.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text())))
    assert [(r["period"], r["user"], r["catalog_item"], float(r["core_hours"])) for r in rows] == [
        ("2026-01-31", "grace", "jupyter", 8.0),
        ("2026-02-01", "grace", "jupyter", 8.0),
        ("2026-02-02", "alan", "pytorch-ddp", 6.0),
    ]


def test_site_admin_sees_tenants_side_by_side_and_hosts(new_page, world):
    Host.objects.create(
        name="gpu-host",
        url="fake://gpu-host",
        cpus=16,
        memory_mib=131072,
        gpus=[{"index": 0, "uuid": "GPU-1", "model": "NVIDIA H100"}],
    )
    hold(
        world.tenant,
        world.member,
        "b-node-3",
        Resources(cpus=Decimal("4"), memory_mib=8192),
        start=at(3, 1, 0),
        end=at(3, 3, 0),
    )
    page = new_page()
    login(page, username="root", password=PASSWORD)

    page.goto("/usage/?since=2026-01-01&until=2026-07-01&group_by=month")

    assert page.locator("#usage-tenants tbody th").all_inner_texts() == ["lab"]
    assert page.locator("#usage-tenants tbody td").first.inner_text() == "192.00"  # 4 cores x 48 h
    host_row = page.locator("#usage-hosts tbody tr").first.inner_text()
    # The <meter> beside each figure draws the share; its text is only a fallback.
    assert [cell.strip() for cell in host_row.split("\t")] == [
        "gpu-host",
        "ready",
        "0",
        "0 / 64",
        "0 / 131072",
        "0 / 1",
    ]
    assert page.locator("#usage-hosts meter").count() == 3
    assert page.locator("svg.usage-chart rect.usage-bar").count() == 1
    screenshot(page, "usage-site-admin")
