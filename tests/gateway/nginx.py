"""The gateway as `make run` runs it: nginx started by deploy/gateway/run.sh, in front of the live
test server, on a free port of its own."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from django.conf import settings

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
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the gateway exited with {self.process.returncode}: {self.log_path.read_text()}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"the gateway did not listen within {seconds}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> "Gateway":
        self.stop()
        return self.start()
