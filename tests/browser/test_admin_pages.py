"""A site admin's pages in the browser: each one renders, names every input, has the page
landmarks, and the hosts page drains a host. Screenshots of each page are kept."""

import pytest
from playwright.sync_api import expect

from provisioning.models import DataTap, Host
from tenants.services.audit import audit_record
from tests.browser.conftest import PASSWORD
from tests.browser.fixtures import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# Inputs a person fills in with no name that a screen reader could read out.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""

PAGES = {
    "admin-tenants": ("/tenants/", "Tenants"),
    "admin-tenant-edit": ("/tenants/lab/edit/", "Edit tenant lab"),
    "admin-hosts": ("/hosts/", "Hosts"),
    "admin-host-add": ("/hosts/new/", "Add a host"),
    "admin-flavors": ("/flavors/", "Flavors"),
    "admin-app-store": ("/catalog/", "App Store"),
    "admin-app": ("/catalog/apps/notebook/", "Notebook"),
    "admin-audit": ("/audit/?action=tenant.", "Audit log"),
    "admin-tokens": ("/tokens/", "API tokens"),
    "admin-sandboxes": ("/sandboxes/", "Sandboxes"),
    "admin-launch": ("/sandboxes/new/", "Launch a sandbox"),
}


def test_every_admin_page_is_labelled_and_has_landmarks(new_page, world, notebook_app, local_host):
    audit_record(actor=world.root, action="tenant.update", tenant=world.tenant, target=world.tenant)
    # The launch form then offers it as a labelled checkbox.
    DataTap.objects.create(
        tenant=world.tenant, name="corpus", kind=DataTap.Kind.NFS, server="nas", export="/x"
    )
    page = new_page()
    login(page, username="root", password=PASSWORD)

    for name, (url, heading) in PAGES.items():
        page.goto(url)
        expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
        assert page.evaluate(UNLABELLED) == [], url
        for landmark in ("banner", "navigation", "main"):
            expect(page.get_by_role(landmark).first).to_be_attached()
        screenshot(page, name)
    page.goto("/sandboxes/new/")
    expect(page.get_by_role("group", name="DataTaps").get_by_label("corpus (read-only)")).to_be_visible()


def test_a_site_admin_drains_and_brings_back_a_host(new_page, world, local_host):
    page = new_page()
    login(page, username="root", password=PASSWORD)
    page.goto("/hosts/")
    row = page.get_by_role("row").filter(has_text="local")
    expect(row).to_contain_text("ready")

    row.get_by_role("button", name="Drain").click()
    expect(page.get_by_text("Host local is now draining.")).to_be_visible()
    assert Host.objects.get(name="local").state == Host.State.DRAINING

    page.get_by_role("row").filter(has_text="local").get_by_role("button", name="Bring back").click()
    expect(page.get_by_text("Host local is now ready.")).to_be_visible()
    screenshot(page, "admin-hosts-after-drain")
