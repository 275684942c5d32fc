"""A site admin manages a local user in Chromium; the user's first login asks for a new password."""

import re

import pytest

from tenants.tests.factories import PASSWORD, UserFactory
from tests.browser.fixtures import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

TEMPORARY = "Temporary pass 7"  # noqa: S105
CHOSEN = "My own secret 42"  # noqa: S105


def test_site_admin_adds_a_user_who_then_chooses_a_password(new_page):
    UserFactory(username="root", is_site_admin=True)
    admin = new_page()
    login(admin, username="root", password=PASSWORD)

    admin.get_by_role("link", name="Users").click()
    admin.get_by_role("link", name="Add a local user").click()
    admin.get_by_label("Username").fill("grace")
    admin.get_by_label("First name").fill("Grace")
    admin.get_by_label("Temporary password").fill(TEMPORARY)
    admin.get_by_role("button", name="Add user").click()
    assert admin.get_by_text("User grace created").is_visible()
    screenshot(admin, "user-created")

    grace = new_page()
    grace.goto("/login/")
    grace.get_by_label("Username").fill("grace")
    grace.get_by_label("Password").fill(TEMPORARY)
    grace.get_by_role("button", name="Log in").click()
    grace.wait_for_url(re.compile(r"/password/$"))
    grace.get_by_label("Current password").fill(TEMPORARY)
    grace.get_by_label("New password", exact=True).fill(CHOSEN)
    grace.get_by_label("New password again").fill(CHOSEN)
    grace.get_by_role("button", name="Change password").click()
    grace.wait_for_url(re.compile(r"/$"))
    assert grace.get_by_text("Your password is changed.").is_visible()

    admin.get_by_role("button", name="Deactivate").click()
    assert admin.get_by_text("grace is deactivated").is_visible()
    grace.reload()
    assert "/login/" in grace.url, "her session ended with the deactivation"
