"""The gateway for people who sign in through the OpenID provider or the directory: it asks the
portal about each request with the browser's session, so their sign-in opens their sandboxes'
services like anyone's, and deactivating them closes the gateway at once."""

import pytest
from django.test import Client

from identity.services.users import user_set_active
from provisioning.services.sandboxes import sandbox_create
from tenants.models import Membership, User
from tenants.tests.factories import UserFactory
from tests.gateway.conftest import cluster_item, engine, fake_host, notebook_item, small, tenant  # noqa: F401
from tests.gateway.test_gateway_auth import (
    SECRET,
    _gateway,  # noqa: F401 - its settings fixture
)
from tests.identity.test_ldap_login import login as ldap_login
from tests.identity.test_oidc_login import callback, provider_sign_in
from tests.notebooks.conftest import run

pytestmark = pytest.mark.django_db(transaction=True)


def _their_notebook(user: User, tenant):  # noqa: F811 - the fixture's value
    Membership.objects.get_or_create(user=user, tenant=tenant)
    sandbox = sandbox_create(owner=user, tenant=tenant, name="mine", catalog_item="notebook", flavor="small")
    run(sandbox.operations.get())
    return sandbox


def _gateway_status(client: Client, sandbox) -> int:
    head = sandbox.nodes.get(role="head")
    answer = client.get(
        "/gateway/auth",
        HTTP_X_ORIGINAL_URI=f"{head.gateway_prefix}jupyter/lab",
        HTTP_X_GATEWAY_SECRET=SECRET,
    )
    return int(answer.headers.get("X-Gateway-Status", answer.status_code))


def test_an_openid_user_passes_the_gateway(oidc_settings, tenant, notebook_item, engine):  # noqa: F811
    client = Client()
    callback(client, provider_sign_in(client, "erin"))
    erin = User.objects.get(username="erin")
    sandbox = _their_notebook(erin, tenant)

    assert _gateway_status(client, sandbox) == 200


def test_a_directory_user_passes_until_deactivated(ldap_settings, tenant, notebook_item, engine):  # noqa: F811
    client, _ = ldap_login("alice")
    alice = User.objects.get(username="alice")
    sandbox = _their_notebook(alice, tenant)
    assert _gateway_status(client, sandbox) == 200

    user_set_active(actor=UserFactory(is_site_admin=True), user=alice, is_active=False)

    assert _gateway_status(client, sandbox) == 401
