"""A user disabled or removed in the directory is deactivated by the periodic check: sessions
and API tokens stop, not only their next login. A directory that does not answer changes nothing."""

import ldap
import pytest
from django.test import Client
from rest_framework.test import APIClient

from identity.directory import DirectoryUnavailable
from identity.services.deprovisioning import directory_accounts_check
from identity.services.users import user_set_active
from tenants.models import AuditEvent, User
from tenants.services.tokens import token_create
from tenants.tests.factories import UserFactory
from tests.identity import directory as test_directory
from tests.identity.conftest import point_at_directory

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(username: str) -> Client:
    client = Client()
    client.post("/login/", {"username": username, "password": test_directory.PASSWORD})
    return client


@pytest.fixture
def directory(settings):
    """A directory of its own: these tests change its entries."""
    running = test_directory.directory_start()
    point_at_directory(settings, running.url)
    yield running
    running.stop()


def test_user_disabled_in_the_directory_loses_sessions_and_tokens(directory):
    browser = sign_in("alice")
    alice = User.objects.get(username="alice")
    _, key = token_create(user=alice, name="ci")
    sign_in("bob")
    admin = directory.admin()
    admin.modify_s(
        test_directory.DISABLED_GROUP,
        [(ldap.MOD_ADD, "member", [f"uid=alice,{test_directory.PEOPLE}".encode()])],
    )

    assert directory_accounts_check() == ["alice"]

    alice.refresh_from_db()
    assert not alice.is_active and User.objects.get(username="bob").is_active
    assert browser.get("/").status_code == 302
    assert APIClient().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    event = AuditEvent.objects.get(action="user.deactivate", object_repr="alice")
    assert event.actor is None and event.detail["reason"] == "disabled or removed in the directory"


def test_user_removed_from_the_directory_is_deactivated(directory):
    sign_in("bob")
    directory.admin().delete_s(f"uid=bob,{test_directory.PEOPLE}")

    assert directory_accounts_check() == ["bob"]
    assert not User.objects.get(username="bob").is_active


def test_re_enabled_in_the_directory_signs_in_again_but_a_site_admins_deactivation_stays(directory):
    sign_in("alice")
    sign_in("bob")
    member = [f"uid=alice,{test_directory.PEOPLE}".encode()]
    directory.admin().modify_s(test_directory.DISABLED_GROUP, [(ldap.MOD_ADD, "member", member)])
    directory_accounts_check()
    directory.admin().modify_s(test_directory.DISABLED_GROUP, [(ldap.MOD_DELETE, "member", member)])
    user_set_active(
        actor=UserFactory(username="boss", is_site_admin=True),
        user=User.objects.get(username="bob"),
        is_active=False,
    )

    assert sign_in("alice").get("/").status_code == 200
    assert sign_in("bob").get("/").status_code == 302


def test_a_directory_that_does_not_answer_changes_nothing(directory):
    sign_in("alice")
    directory.stop()

    with pytest.raises(DirectoryUnavailable):
        directory_accounts_check()
    assert User.objects.get(username="alice").is_active
