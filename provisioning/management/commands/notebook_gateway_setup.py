import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provisioning.services.notebook_gateway import GatewayCredentialsUnknown, notebook_gateway_ensure

DEFAULT_ENV_FILE = Path(settings.BASE_DIR) / "var" / "hub" / "gateway.env"


class Command(BaseCommand):
    help = (
        "Make the notebook gateway's OAuth2 application and service token (idempotent) and write "
        "them, with the proxy's token, to an environment file that deploy/jupyterhub/run.sh and proxy.sh "
        "read (mode 0600, never committed). Credentials that the file holds and that still work are "
        "kept; a gateway set up already whose secret the file does not hold is left alone unless "
        "--rotate is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE)
        parser.add_argument("--hub-url", default=settings.HUB_URL, help="Where browsers reach the Hub")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the gateway's secret and token even though this file does not hold them "
            "(revokes the old token; restart the Hub with the new file)",
        )

    def handle(self, *args, env_file: Path, hub_url: str, rotate: bool, **options):
        known = _read_env(env_file)
        try:
            credentials = notebook_gateway_ensure(
                hub_url=hub_url,
                client_secret=known.get("PORTAL_HUB_OAUTH_CLIENT_SECRET", ""),
                service_token=known.get("PORTAL_HUB_SERVICE_TOKEN", ""),
                rotate=rotate,
            )
        except GatewayCredentialsUnknown as exc:
            raise CommandError(
                f"{exc.message} ({env_file} does not hold them; --rotate replaces them)"
            ) from exc
        values = {
            "PORTAL_HUB_OAUTH_CLIENT_ID": credentials.client_id,
            "PORTAL_HUB_OAUTH_CLIENT_SECRET": credentials.client_secret,
            "PORTAL_HUB_SERVICE_TOKEN": credentials.service_token,
            # Shared by the Hub and its proxy, which runs apart so that it outlives Hub restarts.
            "PORTAL_HUB_PROXY_AUTH_TOKEN": known.get("PORTAL_HUB_PROXY_AUTH_TOKEN") or secrets.token_hex(32),
        }
        if values != {k: known.get(k) for k in values}:
            env_file.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.writelines(f"{key}={value}\n" for key, value in values.items())
            self.stdout.write(f"Notebook gateway credentials written to {env_file}")
        else:
            self.stdout.write(f"Notebook gateway credentials in {env_file} are current")


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}
