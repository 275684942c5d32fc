"""A real OpenID provider for the tests: npm `oidc-provider` run by Node on a free loopback port
(tests/identity/oidc_provider.mjs), with test clients and accounts, stopped after the tests."""

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.identity.directory import free_port

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "portal"
CLIENT_SECRET = "portal-client-secret-for-tests"  # noqa: S105 - test provider only
PASSWORD = "Provider pass 1"  # noqa: S105

# login: claims. `sub` is what binds the portal account; mallory's email is that of a local user
# and must not give her that account.
ACCOUNTS = {
    "erin": {
        "sub": "7d3f0a1c-erin",
        "email": "erin@example.test",
        "email_verified": True,
        "given_name": "Erin",
        "family_name": "Example",
        "preferred_username": "erin",
        "groups": ["ml-team", "sso-admins"],
    },
    "frank": {
        "sub": "9b2e44d0-frank",
        "email": "frank@example.test",
        "given_name": "Frank",
        "family_name": "Other",
        "preferred_username": "frank",
        "groups": ["old-project"],
    },
    "mallory": {
        "sub": "0bad0bad-mallory",
        "email": "siteadmin@example.test",
        "preferred_username": "siteadmin",
        "groups": [],
    },
}


@dataclass
class OpenIDProvider:
    port: int
    process: subprocess.Popen
    folder: Path

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def provider_start(*, portal_urls: list[str]) -> OpenIDProvider:
    """`portal_urls`: the origins the portal answers on (its callback and logout pages)."""
    folder = Path(tempfile.mkdtemp(prefix="portal-oidc-"))
    config = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{url}/oidc/callback/" for url in portal_urls],
                "post_logout_redirect_uris": [f"{url}/login/" for url in portal_urls],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
            }
        ],
        "accounts": {login: {"password": PASSWORD, "claims": claims} for login, claims in ACCOUNTS.items()},
    }
    (folder / "config.json").write_text(json.dumps(config))
    port = free_port()
    log = open(folder / "provider.log", "wb")  # noqa: SIM115 - held by the process
    process = subprocess.Popen(
        ["node", str(SCRIPT), str(port), str(folder / "config.json")], stdout=log, stderr=subprocess.STDOUT
    )
    provider = OpenIDProvider(port=port, process=process, folder=folder)
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=2).raise_for_status()
            return provider
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                provider.stop()
                raise RuntimeError(
                    f"oidc-provider did not start:\n{(folder / 'provider.log').read_text(errors='replace')}"
                ) from None
            time.sleep(0.1)
