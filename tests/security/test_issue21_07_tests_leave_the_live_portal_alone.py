"""Issue 21, item 7: `make test` in a second checkout ran the gateway set-up against the live
database: the running Hub's OAuth secret was replaced (every Jupyter login then failed) and one
more never-expiring gateway token was minted, the old one still valid."""

import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application
from provisioning.services.notebook_gateway import CLIENT_ID, TOKEN_NAME

from tenants.models import Token
from tenants.services.tokens import token_authenticate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def _env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def _live_gateway_tokens() -> int:
    return Token.objects.filter(name=TOKEN_NAME, revoked__isnull=True).count()


@pytest.fixture
def running_gateway(tmp_path) -> dict[str, str]:
    """The gateway as the live portal's `make run` set it up, with its credentials file."""
    live = tmp_path / "live" / "gateway.env"
    call_command("notebook_gateway_setup", env_file=live, hub_url="http://127.0.0.1:8001", stdout=None)
    return _env(live)


def test_make_test_runs_no_set_up_against_the_configured_database():
    """The test run makes its own database; the set-up (migrate, bootstrap, gateway) is the
    running portal's, against its database."""
    dry_run = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True)

    assert "pytest" in dry_run.stdout
    assert "manage.py" not in dry_run.stdout


def test_a_second_checkout_does_not_re_key_the_running_gateway(running_gateway, tmp_path):
    second = tmp_path / "second-checkout" / "gateway.env"

    with pytest.raises(CommandError, match="set up already"):
        call_command("notebook_gateway_setup", env_file=second, hub_url="http://127.0.0.1:8001")

    app = Application.objects.get(client_id=CLIENT_ID)
    assert check_password(running_gateway["PORTAL_HUB_OAUTH_CLIENT_SECRET"], app.client_secret)
    assert token_authenticate(key=running_gateway["PORTAL_HUB_SERVICE_TOKEN"]) is not None
    assert _live_gateway_tokens() == 1
    assert not second.exists()


def test_the_set_up_keeps_working_credentials(running_gateway, tmp_path):
    live = tmp_path / "live" / "gateway.env"

    call_command("notebook_gateway_setup", env_file=live, hub_url="http://127.0.0.1:8001")

    assert _env(live) == running_gateway
    assert _live_gateway_tokens() == 1


def test_a_rotation_revokes_the_token_it_replaces(running_gateway, tmp_path):
    second = tmp_path / "second-checkout" / "gateway.env"

    call_command("notebook_gateway_setup", env_file=second, hub_url="http://127.0.0.1:8001", rotate=True)

    rotated = _env(second)
    assert rotated["PORTAL_HUB_OAUTH_CLIENT_SECRET"] != running_gateway["PORTAL_HUB_OAUTH_CLIENT_SECRET"]
    assert token_authenticate(key=running_gateway["PORTAL_HUB_SERVICE_TOKEN"]) is None
    assert token_authenticate(key=rotated["PORTAL_HUB_SERVICE_TOKEN"]) is not None
    assert _live_gateway_tokens() == 1


def test_a_lost_token_is_replaced_and_revoked_with_the_secret_kept(running_gateway, tmp_path):
    live = tmp_path / "live" / "gateway.env"
    live.write_text(f"PORTAL_HUB_OAUTH_CLIENT_SECRET={running_gateway['PORTAL_HUB_OAUTH_CLIENT_SECRET']}\n")

    call_command("notebook_gateway_setup", env_file=live, hub_url="http://127.0.0.1:8001")

    renewed = _env(live)
    assert renewed["PORTAL_HUB_OAUTH_CLIENT_SECRET"] == running_gateway["PORTAL_HUB_OAUTH_CLIENT_SECRET"]
    assert token_authenticate(key=running_gateway["PORTAL_HUB_SERVICE_TOKEN"]) is None
    assert _live_gateway_tokens() == 1
