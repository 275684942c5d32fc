"""The gateway as `make run` runs it: nginx started by deploy/gateway/run.sh, in front of the live
test server, on a free port of its own."""

import contextlib
import os
import socket
import subprocess
from pathlib import Path

from django.conf import settings

from tests.processes import stop_group, wait_serving

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gateway:
    def __init__(self, *, portal_port: int, secret: str, run_dir: Path):
        self.port = free_port()
        # Browsers send one host's cookies to all its ports: the gateway and the portal share a host.
        self.url = f"http://localhost:{self.port}"
        self.log_path = run_dir / "gateway.log"
        self.env = {
            **os.environ,
            "PORTAL_RUN_DIR": str(run_dir),
            "PORTAL_GATEWAY_BIND": f"127.0.0.1:{self.port}",
            "PORTAL_BIND": f"127.0.0.1:{portal_port}",
            "PORTAL_HOST": f"localhost:{portal_port}",
            "PORTAL_GATEWAY_SECRET": secret,
        }
        self.process: subprocess.Popen | None = None

    def start(self, seconds: float = 30) -> "Gateway":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["bash", str(ROOT / "deploy" / "gateway" / "run.sh")],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_serving(self.process, self._listens, what="the gateway", log=self.log_path, seconds=seconds)
        return self

    def _listens(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True
        return False

    def stop(self) -> None:
        stop_group(self.process, timeout_s=20)

    def restart(self) -> "Gateway":
        self.stop()
        return self.start()
