"""What the notebook gateway (JupyterHub) needs from the portal, made idempotently: the OAuth2
application it logs users in with, and the service account (with an API token) its spawner calls
the notebooks API as. Secrets are stored hashed, so the caller keeps the plain ones it was given
and passes them back: they are reused while they still work.

A running Hub holds the secret and the token. A caller that does not hold them (another checkout
of the project on the same database, a lost credentials file) must not replace them behind the
Hub's back: that needs `rotate`, and a rotation revokes the gateway tokens it replaces."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import Application

from common.errors import Conflict
from tenants.models import Token, User
from tenants.services.tokens import token_authenticate, token_create, token_revoke

CLIENT_ID = "portal-jupyterhub"
TOKEN_NAME = "notebook gateway"  # noqa: S105 - a label, not a secret


class GatewayCredentialsUnknown(Conflict):
    code = "gateway_credentials_unknown"


@dataclass(frozen=True)
class GatewayCredentials:
    client_id: str
    client_secret: str
    service_token: str


def hub_redirect_uri(hub_url: str) -> str:
    return f"{hub_url.rstrip('/')}/hub/oauth_callback"


@transaction.atomic
def notebook_gateway_ensure(
    *, hub_url: str, client_secret: str = "", service_token: str = "", rotate: bool = False
) -> GatewayCredentials:
    """Make or check the gateway's credentials. With the working secret and token given back,
    nothing changes (but the redirect URI, if the Hub moved). Without them, while a gateway is
    set up already, refuse unless `rotate`: then new ones replace them and the old tokens are
    revoked."""
    account = _service_account()
    app = Application.objects.select_for_update().filter(client_id=CLIENT_ID).first()
    secret_works = bool(app and client_secret and check_password(client_secret, app.client_secret))
    token = token_authenticate(key=service_token) if service_token else None
    token_works = token is not None and token.user_id == account.pk
    if app is not None and not secret_works and not rotate:
        raise GatewayCredentialsUnknown(
            "The notebook gateway is set up already, with a secret this caller does not hold: "
            "replacing it would lock out the running Hub. Give the current credentials file, or "
            "rotate on purpose (then restart the Hub)."
        )
    if not token_works:
        _, service_token = token_create(user=account, name=TOKEN_NAME)
        token = token_authenticate(key=service_token)
    # One gateway, one token: any other is one this set-up replaced.
    for stale in Token.objects.filter(user=account, revoked__isnull=True).exclude(pk=token.pk):
        token_revoke(actor=account, token=stale)
    if app is None:
        app = Application(client_id=CLIENT_ID)
    if not secret_works:
        client_secret = Application._meta.get_field("client_secret").default()
        app.client_secret = client_secret  # hashed by the model on save
        app.hash_client_secret = True
    app.name = "JupyterHub (notebook gateway)"
    app.user = None
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = hub_redirect_uri(hub_url)
    app.skip_authorization = True  # the portal's own gateway: no consent page
    app.save()
    return GatewayCredentials(client_id=CLIENT_ID, client_secret=client_secret, service_token=service_token)


def _service_account() -> User:
    account, created = User.objects.get_or_create(
        username=settings.HUB_SERVICE_USERNAME,
        defaults={"first_name": "Notebook gateway", "is_active": True},
    )
    if created or account.has_usable_password():
        account.set_unusable_password()  # a token only: nobody logs in as the gateway
        account.save(update_fields=["password"])
    return account
