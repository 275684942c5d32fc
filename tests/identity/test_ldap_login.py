"""Sign-in through the login page against a real OpenLDAP directory."""

import pytest
from django.test import Client

from identity.models import ExternalIdentity, GroupMapping, MappedMembership
from tenants.models import AuditEvent, Membership, User
from tenants.tests.factories import PASSWORD as LOCAL_PASSWORD
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.identity import directory as test_directory
from tests.identity.conftest import point_at_directory

pytestmark = pytest.mark.django_db(transaction=True)


def login(username: str, password: str = test_directory.PASSWORD):
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return client, response


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_first_login_creates_the_user_from_the_directory(ldap_settings):
    client, response = login("alice")

    assert response.status_code == 302
    assert signed_in(client)
    alice = User.objects.get(username="alice")
    assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Liddell", "alice@example.test")
    assert not alice.has_usable_password(), "the directory's password is never stored"
    assert ExternalIdentity.objects.filter(user=alice, provider="ldap", subject="alice").exists()


def test_wrong_password_is_refused(ldap_settings):
    client, response = login("alice", "not the password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()


def test_disabled_user_cannot_sign_in(ldap_settings):
    client, response = login("carol")

    assert response.status_code == 200
    assert not signed_in(client)
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("username", ["*", "alice)(uid=*", "a*", "alice)(|(objectClass=*)", "\\2a"])
def test_filter_characters_in_a_username_match_nobody(ldap_settings, username):
    client, response = login(username)

    assert response.status_code == 200
    assert not signed_in(client)
    assert not User.objects.exclude(username="siteadmin").exists()


def test_a_directory_user_never_takes_over_a_local_account_of_the_same_name(ldap_settings):
    root = UserFactory(username="root", is_site_admin=True)

    client, response = login("root")

    assert response.status_code == 200
    assert not signed_in(client)
    root.refresh_from_db()
    assert root.is_site_admin and root.check_password(LOCAL_PASSWORD)
    client, _ = login("root", LOCAL_PASSWORD)
    assert signed_in(client), "the local account still signs in with its own password"


def test_login_applies_group_mappings_and_keeps_manual_memberships(ldap_settings):
    ml, research, handmade = (
        TenantFactory(slug="ml"),
        TenantFactory(slug="research"),
        TenantFactory(slug="handmade"),
    )
    GroupMapping.objects.create(group="ml-team", grant="member", tenant=ml, tenant_slug="ml")
    GroupMapping.objects.create(
        group=f"cn=ml-leads,{test_directory.GROUPS}", grant="admin", tenant=ml, tenant_slug="ml"
    )
    GroupMapping.objects.create(group="old-project", grant="member", tenant=research, tenant_slug="research")
    alice = UserFactory(username="alice")
    alice.set_unusable_password()
    alice.save()
    ExternalIdentity.objects.create(user=alice, provider="ldap", issuer="", subject="alice")
    MembershipFactory(user=alice, tenant=handmade, role="member")
    stale = MembershipFactory(user=alice, tenant=research, role="member")
    MappedMembership.objects.create(membership=stale, groups=["old-project"])

    client, _ = login("alice")

    assert signed_in(client)
    roles = dict(Membership.objects.filter(user=alice).values_list("tenant__slug", "role"))
    # ml-leads (by DN) outranks ml-team; research came from a group alice left; handmade was manual.
    assert roles == {"ml": "admin", "handmade": "member"}
    # The site's group mapping acted, not alice: no actor, her name in the event.
    assert AuditEvent.objects.filter(
        action="member.add", tenant=ml, actor=None, detail__username="alice"
    ).exists()
    assert AuditEvent.objects.filter(action="member.remove", tenant=research).exists()


def test_a_group_can_make_site_admins_and_a_later_login_withdraws_it(ldap_settings):
    mapping = GroupMapping.objects.create(group="portal-admins", grant="site_admin")

    login("dave")
    assert User.objects.get(username="dave").is_site_admin

    mapping.delete()
    login("dave")
    assert not User.objects.get(username="dave").is_site_admin


def test_group_mapped_to_a_deleted_tenant_is_ignored_with_a_warning(ldap_settings, caplog):
    gone = TenantFactory(slug="gone")
    GroupMapping.objects.create(group="ml-team", grant="member", tenant=gone, tenant_slug="gone")
    gone.delete()

    client, _ = login("bob")

    assert signed_in(client)
    assert not Membership.objects.filter(user__username="bob").exists()
    assert "tenant no longer exists" in caplog.text
    event = AuditEvent.objects.get(action="group_mapping.ignored")
    assert event.detail["tenant"] == "gone" and event.result == "failure"


def test_mappings_from_the_settings_apply_too(ldap_settings):
    TenantFactory(slug="ml")
    ldap_settings.PORTAL_GROUP_MAPPINGS = [{"group": "ml-team", "tenant": "ml", "role": "admin"}]

    login("bob")

    assert Membership.objects.get(user__username="bob", tenant__slug="ml").role == "admin"


def test_directory_down_says_so_and_local_site_admins_still_sign_in(settings, local_admin):
    from tests.identity.directory import free_port

    point_at_directory(settings, f"ldap://127.0.0.1:{free_port()}")

    client, response = login("alice")
    assert response.status_code == 200
    assert "directory does not answer" in response.content.decode()

    client, response = login("siteadmin", LOCAL_PASSWORD)
    assert signed_in(client)


def test_wrong_bind_password_says_sign_in_is_broken(settings, directory, local_admin):
    point_at_directory(settings, directory.url, bind_password="wrong")

    client, response = login("alice")

    assert "own access to it was refused" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()
    client, _ = login("siteadmin", LOCAL_PASSWORD)
    assert signed_in(client)


def test_repeated_failures_lock_a_directory_user_out(ldap_settings):
    for _ in range(ldap_settings.AXES_FAILURE_LIMIT):
        login("alice", "wrong")

    client, response = login("alice")

    assert not signed_in(client)
    assert AuditEvent.objects.filter(action="auth.login_failed", result="denied").exists()


def test_user_deactivated_in_the_portal_cannot_sign_in_through_the_directory(ldap_settings):
    client, _ = login("alice")
    assert signed_in(client)
    User.objects.filter(username="alice").update(is_active=False)

    assert not signed_in(client), "the session ends at once"
    client, response = login("alice")
    assert not signed_in(client)


def test_directory_users_get_api_tokens_with_their_directory_password(ldap_settings):
    from rest_framework.test import APIClient

    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": test_directory.PASSWORD}, format="json"
    )

    assert answer.status_code in (200, 201), answer.content
    key = answer.json()["token"]
    assert APIClient().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_a_deactivated_directory_user_gets_no_api_token(ldap_settings):
    from rest_framework.test import APIClient

    login("alice")
    User.objects.filter(username="alice").update(is_active=False)

    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": test_directory.PASSWORD}, format="json"
    )

    assert answer.status_code in (400, 401, 403), answer.content
    assert not User.objects.get(username="alice").tokens.exists()
