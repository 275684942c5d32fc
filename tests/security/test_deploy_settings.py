"""Production settings: Django's deploy checks pass with what a deploy sets in the environment,
and no secret is written in the settings themselves."""

import ast
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "PORTAL_SECRET_KEY": secrets.token_urlsafe(50),
    "PORTAL_DB_PASSWORD": secrets.token_urlsafe(16),
    "PORTAL_ALLOWED_HOSTS": "portal.example.org",
}
SECRET_NAMES = ("SECRET", "PASSWORD", "TOKEN", "KEY")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_production_refuses_to_start_without_its_secrets():
    for name in ("PORTAL_SECRET_KEY", "PORTAL_DB_PASSWORD", "PORTAL_ALLOWED_HOSTS"):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
        result = manage("check", **env)
        assert result.returncode != 0
        assert f"{name} must be set" in result.stderr, result.stderr
    weak = manage("check", **{**PRODUCTION_ENV, "PORTAL_SECRET_KEY": "short"})
    assert weak.returncode != 0 and "50 or more" in weak.stderr


def _literal_secrets(path: Path) -> list[str]:
    """Assignments of a string literal to a setting (or dictionary key) named like a secret."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            targets += [
                t.slice.value
                for t in node.targets
                if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant)
            ]
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found += [t for t in targets if any(word in str(t).upper() for word in SECRET_NAMES)]
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and any(word in str(key.value).upper() for word in SECRET_NAMES)
                    and isinstance(value, ast.Constant)
                    and value.value
                ):
                    found.append(key.value)
    return found


def test_production_settings_hold_no_secret_of_their_own():
    assert _literal_secrets(ROOT / "portal" / "settings_production.py") == []
    # The finder does find one: the local settings' debug-only key.
    assert "SECRET_KEY" in _literal_secrets(ROOT / "portal" / "settings.py")


def test_production_values_come_from_the_environment():
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECRET_KEY == {key!r}, s.DATABASES['default']['PASSWORD'] == {pw!r}, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    ).format(key=PRODUCTION_ENV["PORTAL_SECRET_KEY"], pw=PRODUCTION_ENV["PORTAL_DB_PASSWORD"])
    result = manage("shell", "-c", script, **PRODUCTION_ENV, PORTAL_DEBUG="true")
    assert result.stdout.split()[-8:] == [
        "False",
        "True",
        "True",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
    ], result.stdout + result.stderr
