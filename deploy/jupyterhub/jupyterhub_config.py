# JupyterHub configuration of the portal's notebook gateway. Everything comes from the
# environment (deploy/jupyterhub/run.sh sets it from the portal's settings and the secrets that
# `manage.py notebook_gateway_setup` wrote), so one file serves `make run`, the tests and
# production alike. The portal is the identity provider (OAuth2) and owns every container:
# the Hub authenticates, proxies, and asks the portal to run servers (provisioning/spawner.py).
import os
import sys
from pathlib import Path

from oauthenticator.generic import GenericOAuthenticator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # provisioning.spawner; it imports nothing of Django

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise SystemExit(f"jupyterhub_config: {name} must be set (see deploy/jupyterhub/run.sh)")
    return value


PORTAL_URL = env("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")
HUB_URL = env("PORTAL_HUB_URL", "http://127.0.0.1:8001").rstrip("/")
STATE_DIR = Path(env("PORTAL_HUB_STATE_DIR", str(ROOT / "var" / "hub")))
STATE_DIR.mkdir(parents=True, exist_ok=True)

# The public side: configurable-http-proxy on its own port, where browsers go. It runs as its
# own process (deploy/jupyterhub/proxy.sh), not as the Hub's child: a Hub restart then leaves
# it, with its routes, in place, and open notebooks keep working throughout.
c.JupyterHub.bind_url = HUB_URL
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('PORTAL_HUB_PROXY_API_PORT', '8002')}"
c.ConfigurableHTTPProxy.auth_token = env("PORTAL_HUB_PROXY_AUTH_TOKEN")

# The Hub's own API: single-user servers inside sandboxes call it (OAuth, activity), so it
# listens where containers reach the host: the Docker bridge's gateway address by default.
HUB_API_HOST = env("PORTAL_HUB_API_HOST", "172.17.0.1")
HUB_API_PORT = env("PORTAL_HUB_API_PORT", "8081")
c.JupyterHub.hub_bind_url = f"http://{HUB_API_HOST}:{HUB_API_PORT}"
c.JupyterHub.hub_connect_url = f"http://{HUB_API_HOST}:{HUB_API_PORT}"

# State that must survive a restart: users, servers and their spawner state, and the cookie
# secret (a new one would log every browser out of the Hub).
c.JupyterHub.db_url = f"sqlite:///{STATE_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE_DIR / "jupyterhub.pid")
# A Hub that stops or restarts leaves the servers running; it re-attaches from its database.
c.JupyterHub.cleanup_servers = False


class PortalAuthenticator(GenericOAuthenticator):
    """Portal usernames are used as they are: lowercasing would name another portal user."""

    def normalize_username(self, username):
        return username


c.JupyterHub.authenticator_class = PortalAuthenticator
c.PortalAuthenticator.client_id = env("PORTAL_HUB_OAUTH_CLIENT_ID")
c.PortalAuthenticator.client_secret = env("PORTAL_HUB_OAUTH_CLIENT_SECRET")
c.PortalAuthenticator.oauth_callback_url = f"{HUB_URL}/hub/oauth_callback"
c.PortalAuthenticator.authorize_url = f"{PORTAL_URL}/o/authorize/"
c.PortalAuthenticator.token_url = f"{PORTAL_URL}/o/token/"
c.PortalAuthenticator.userdata_url = f"{PORTAL_URL}/api/v1/notebooks/userinfo/"
c.PortalAuthenticator.scope = ["profile"]
c.PortalAuthenticator.username_claim = "username"
c.PortalAuthenticator.login_service = "AI Sandbox Portal"
# A user logged into the portal passes straight through; which sandboxes they may open is the
# portal's decision at every spawn, so every portal user may log into the Hub.
c.PortalAuthenticator.auto_login = True
c.PortalAuthenticator.allow_all = True

c.JupyterHub.spawner_class = "provisioning.spawner.PortalSpawner"
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = 0  # one per sandbox the user may open
c.PortalSpawner.portal_url = PORTAL_URL
c.PortalSpawner.service_token = env("PORTAL_HUB_SERVICE_TOKEN")
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = env("PORTAL_HUB_NOTEBOOK_DIR", "/workspace")
# A sandbox started from the portal's page (never by the Hub: a stopped one is refused) may
# still be starting: that can take minutes; then JupyterLab's own start.
c.Spawner.start_timeout = int(env("PORTAL_HUB_START_TIMEOUT_S", "600"))
c.Spawner.http_timeout = int(env("PORTAL_HUB_HTTP_TIMEOUT_S", "120"))
# How often the Hub polls servers (and so reports their activity to the portal's idle limit),
# and how often servers and the proxy report activity to the Hub.
ACTIVITY_S = env("PORTAL_HUB_ACTIVITY_INTERVAL_S", "60")
c.Spawner.poll_interval = int(ACTIVITY_S)
c.JupyterHub.last_activity_interval = int(ACTIVITY_S)
c.Spawner.environment = {"JUPYTERHUB_ACTIVITY_INTERVAL": ACTIVITY_S}
