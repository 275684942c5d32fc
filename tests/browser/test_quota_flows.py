"""Quota in the browser: a launch over quota is refused in the form, next to the field that
asked too much; a site admin's new limit is what the member then sees."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from provisioning.models import Sandbox
from tenants.models import Tenant
from tests.browser.conftest import PASSWORD
from tests.browser.fixtures import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_launch_over_quota_shows_the_error_next_to_the_size(new_page, world, notebook_app):
    Tenant.objects.filter(pk=world.tenant.pk).update(quota_cpus=Decimal("0.5"))
    page = new_page()
    login(page, username="grace", password=PASSWORD)

    page.goto("/catalog/")
    page.get_by_role("link", name="Launch Notebook").click()
    page.get_by_label("Name").fill("too-big")
    # The live check warns before anything is sent.
    expect(page.locator("#quota-check")).to_contain_text("would go over the quota: cpus (cores)")
    page.get_by_role("button", name="Launch", exact=True).click()

    error = page.locator("#id_flavor_error")
    expect(error).to_contain_text("over its cpus quota: limit 0.50")
    expect(page.get_by_label("Size (flavor)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("too-big")
    assert not Sandbox.objects.exists()
    screenshot(page, "launch-over-quota")


def test_the_launch_form_explains_a_bad_name_next_to_it(new_page, world, notebook_app):
    page = new_page()
    login(page, username="grace", password=PASSWORD)

    page.goto("/sandboxes/new/?app=notebook")
    page.get_by_label("Name").fill("Not A Slug!")
    page.get_by_role("button", name="Launch", exact=True).click()

    expect(page.locator("#id_name_error")).to_be_visible()
    expect(page.locator("#quota-check")).to_contain_text("Fits within the quota")
    assert not Sandbox.objects.exists()


def test_a_site_admin_changes_a_quota_and_the_member_sees_it(new_page, world):
    admin = new_page()
    login(admin, username="root", password=PASSWORD)
    admin.goto("/tenants/lab/edit/")
    admin.get_by_label("CPUs (cores)").fill("-1")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#id_quota_cpus_error")).to_be_visible()

    admin.get_by_label("CPUs (cores)").fill("3")
    admin.get_by_label("Sandboxes").fill("2")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved.")).to_be_visible()
    screenshot(admin, "site-admin-quota-saved")

    member = new_page()
    login(member, username="grace", password=PASSWORD)
    quota = member.locator(".quota-bars")
    expect(quota).to_contain_text("0 of 3")
    expect(quota).to_contain_text("0 of 2")
    screenshot(member, "member-dashboard-new-quota")

    member.set_viewport_size({"width": 390, "height": 844})
    member.reload()
    expect(member.get_by_role("button", name="Toggle navigation")).to_be_visible()
    expect(quota).to_contain_text("0 of 3")
    screenshot(member, "member-dashboard-phone")


def test_a_tenant_admin_adds_a_member(new_page, world):
    from tenants.tests.factories import UserFactory

    UserFactory(username="katherine")
    page = new_page()
    login(page, username="alan", password=PASSWORD)
    page.goto("/tenants/lab/")

    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#id_username_error")).to_contain_text("no active user")

    page.get_by_label("Username").fill("katherine")
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Add", exact=True).click()

    expect(page.get_by_text("Added katherine.")).to_be_visible()
    expect(page.get_by_role("cell", name="katherine", exact=True)).to_be_visible()
    assert world.tenant.memberships.filter(user__username="katherine").exists()
    screenshot(page, "tenant-admin-added-member")


def test_choosing_another_app_redraws_the_form_for_its_roles(new_page, world, notebook_app):
    from tests.catalog.factories import CatalogItemFactory, manifest

    head = manifest()["roles"]["head"]
    worker = {**head, "min_nodes": 0, "max_nodes": 4, "default_nodes": 2, "services": []}
    CatalogItemFactory(
        slug="cluster",
        name="Cluster",
        default_flavor=notebook_app.default_flavor,
        manifest=manifest(slug="cluster", name="Cluster", roles={"head": head, "worker": worker}),
    )
    page = new_page()
    login(page, username="grace", password=PASSWORD)
    page.goto("/sandboxes/new/?app=notebook")
    page.get_by_label("Name").fill("keep-me")
    expect(page.locator("#quota-check")).to_contain_text("0 + 1 of 8")

    page.get_by_label("App").select_option("cluster")

    expect(page.get_by_label("Worker nodes")).to_have_value("2")
    expect(page.get_by_label("Name")).to_have_value("keep-me")
    expect(page.locator("#quota-check")).to_contain_text("0 + 3 of 8")
    page.get_by_label("Worker nodes").fill("4")
    expect(page.locator("#quota-check")).to_contain_text("0 + 5 of 8")
    screenshot(page, "launch-cluster")
