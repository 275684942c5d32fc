"""The login page in a real headless Chromium."""

import pytest

from tenants.models import User
from tests.browser.fixtures import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_reaches_the_dashboard(new_page):
    User.objects.create_user(username="ada", password="correct horse battery")
    page = new_page()
    login(page, username="ada", password="correct horse battery")
    assert page.url.endswith("/")
    assert page.get_by_text("ada").first.is_visible()
    screenshot(page, "dashboard")


def test_wrong_password_is_refused_on_the_page(new_page):
    User.objects.create_user(username="ada", password="correct horse battery")
    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert "/login/" in page.url
    assert page.get_by_text("enter a correct username and password").is_visible()
