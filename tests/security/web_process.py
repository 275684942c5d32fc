"""The portal's web process as `make run` starts it: gunicorn with deploy/gunicorn.conf.py and
the default settings module, with nothing but what the Makefile gives it (a secret key), on a free
port and the test run's database and Redis database."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebProcess:
    def __init__(self, log_path: Path, **env: str):
        self.address = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.address}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))}
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "portal.wsgi",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
            ],
            cwd=ROOT,
            env={
                **inherited,
                "PORTAL_BIND": self.address,
                "PORTAL_SECRET_KEY": "a-key-as-make-run-generates-one-" + "x" * 30,
                "PORTAL_DB_NAME": settings.DATABASES["default"]["NAME"],
                "PORTAL_REDIS_URL": settings.REDIS_URL,
                "PORTAL_CACHE_URL": settings.REDIS_URL,
                "PORTAL_SITE": settings.SITE,
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 60) -> "WebProcess":
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(f"{self.url}/login/", timeout=2).close()  # noqa: S310
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {seconds}s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)
        self.log.close()
