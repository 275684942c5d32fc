"""Chromium signs in through the login page: at the real OpenID provider, and with a directory
account against the real slapd; each lands in the portal with the mapped memberships."""

import re

import pytest

from identity.models import GroupMapping
from tenants.tests.factories import TenantFactory, UserFactory
from tests.browser.fixtures import login, screenshot
from tests.identity import directory as test_directory
from tests.identity import provider as test_provider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ml_tenant(transactional_db):
    ml = TenantFactory(slug="ml", name="Machine Learning")
    GroupMapping.objects.create(group="ml-team", grant="member", tenant=ml, tenant_slug="ml")
    return ml


def test_sign_in_with_the_provider_lands_in_the_portal_with_mapped_tenants(
    oidc_settings, ml_tenant, new_page
):
    page = new_page()
    page.goto("/login/")
    screenshot(page, "login-with-sso")

    page.get_by_role("link", name="Sign in with Example SSO").click()
    page.get_by_label("Login").fill("erin")
    page.get_by_label("Password").fill(test_provider.PASSWORD)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.wait_for_url(re.compile(r"^http://localhost:\d+/$"))

    assert page.get_by_title("Signed in as; change your password").inner_text() == "erin"
    page.goto("/tenants/")
    assert page.get_by_role("link", name=re.compile("ml")).first.is_visible()
    screenshot(page, "signed-in-with-sso")

    page.get_by_role("button", name="Log out").click()
    # The provider asks whether to end its session too, then sends the browser back.
    page.get_by_role("button", name=re.compile("Yes, sign me out", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/login/"))
    page.get_by_role("link", name="Sign in with Example SSO").click()
    assert page.get_by_label("Login").is_visible(), "the provider's session ended too"


def test_directory_user_signs_in_on_the_password_form(ldap_settings, ml_tenant, new_page):
    page = new_page()

    login(page, username="bob", password=test_directory.PASSWORD)

    page.goto("/tenants/")
    assert page.get_by_role("link", name=re.compile("ml")).first.is_visible()


def test_directory_down_is_said_on_the_login_page_and_site_admins_still_get_in(
    settings, new_page, transactional_db
):
    from tests.identity.conftest import point_at_directory

    point_at_directory(settings, f"ldap://127.0.0.1:{test_directory.free_port()}")
    UserFactory(username="siteadmin", is_site_admin=True)
    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(test_directory.PASSWORD)
    page.get_by_role("button", name="Log in").click()

    assert page.get_by_text("directory does not answer").is_visible()
    screenshot(page, "login-directory-down")
    login(page, username="siteadmin", password="correct horse battery staple")
    assert page.get_by_title("Signed in as; change your password").inner_text() == "siteadmin"
