"""What the notebook gateway (JupyterHub) needs from the portal, made idempotently: the OAuth2
application it logs users in with, and the service account (with an API token) its spawner calls
the notebooks API as. Secrets are stored hashed, so the caller keeps the plain ones it was given
and passes them back: they are reused while they still work, and replaced otherwise."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import Application

from tenants.models import User
from tenants.services.tokens import token_authenticate, token_create

CLIENT_ID = "portal-jupyterhub"
TOKEN_NAME = "notebook gateway"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class GatewayCredentials:
    client_id: str
    client_secret: str
    service_token: str


def hub_redirect_uri(hub_url: str) -> str:
    return f"{hub_url.rstrip('/')}/hub/oauth_callback"


@transaction.atomic
def notebook_gateway_ensure(
    *, hub_url: str, client_secret: str = "", service_token: str = ""
) -> GatewayCredentials:
    account = _service_account()
    token = token_authenticate(key=service_token) if service_token else None
    if token is None or token.user_id != account.pk:
        _, service_token = token_create(user=account, name=TOKEN_NAME)
    app = Application.objects.filter(client_id=CLIENT_ID).first()
    if app is None:
        app = Application(client_id=CLIENT_ID)
    if not client_secret or not app.pk or not check_password(client_secret, app.client_secret):
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
