"""Issue 21, item 9: killing one process of `make run` (the Celery worker, as the OOM killer
would) stopped all of them: honcho ends everything when one process ends. Each process of a portal
started the way `make run` starts it is killed in turn; it comes back alone, the others keep
their process, and the portal and its gateway answer again.

Starts its own portal (its own port, site, Redis database and run folder, on the test
database); it restarts no shared service."""

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.gateway.nginx import free_port
from tests.resilience.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "supervisor" / "portal.conf"
BIN = Path(sys.executable).parent
PROCESSES = ("web", "worker", "worker-launch", "worker-readiness", "worker-long", "beat", "gateway")


class SupervisedPortal:
    """`make run`'s supervisord with the project's config file, and `make run`'s environment."""

    def __init__(self, run_dir: Path):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.bind = f"127.0.0.1:{free_port()}"
        self.gateway_bind = f"127.0.0.1:{free_port()}"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DJANGO_"))}
        self.env = {
            **inherited,
            "PORTAL_RUN_DIR": str(run_dir),
            "PORTAL_BIND": self.bind,
            "PORTAL_SECRET_KEY": "a-key-as-make-run-generates-one-" + "x" * 30,
            "PORTAL_DB_NAME": settings.DATABASES["default"]["NAME"],
            "PORTAL_REDIS_URL": settings.REDIS_URL,
            "PORTAL_CACHE_URL": settings.REDIS_URL,
            "PORTAL_SITE": settings.SITE,
            "PORTAL_GATEWAY_BIND": self.gateway_bind,
            "PORTAL_GATEWAY_SECRET": "the-gateway-secret-of-this-test",
        }
        self.log_path = run_dir / "make-run.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "supervisord"), "-c", str(CONFIG)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ctl(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(CONFIG), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        ).stdout

    def pids(self) -> dict[str, int]:
        """The pid of each process that supervisord reports RUNNING."""
        running = {}
        for line in self.ctl("status").splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[1] == "RUNNING" and fields[2] == "pid":
                running[fields[0]] = int(fields[3].rstrip(","))
        return running

    def answers(self) -> bool:
        """The portal answers healthy (database, Redis, a worker) and the gateway asks it: an
        address of no node is a 404 of the portal's, not an error of the gateway's."""
        try:
            with urllib.request.urlopen(f"http://{self.bind}/healthz", timeout=5) as answer:  # noqa: S310
                if answer.status != 200:
                    return False
        except (urllib.error.URLError, OSError):
            return False
        try:
            url = f"http://{self.gateway_bind}/gateway/none/jupyter/"
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
                # Nobody is logged in: the portal answered, and the gateway sent us to log in.
                return "/login/" in answer.geturl()
        except urllib.error.HTTPError as refused:
            return refused.code == 401
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # supervisord stops every program, each with its group
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def portal(tmp_path):
    supervised = SupervisedPortal(tmp_path / "run")
    try:
        wait_until(lambda: set(supervised.pids()) == set(PROCESSES), seconds=120, what="every process")
        wait_until(supervised.answers, seconds=180, what=f"the portal to answer (see {supervised.log_path})")
        yield supervised
    finally:
        supervised.stop()


def test_each_killed_process_comes_back_alone(portal):
    for name in PROCESSES:
        before = portal.pids()
        assert set(before) == set(PROCESSES), before

        os.kill(before[name], signal.SIGKILL)  # as the OOM killer does

        after = wait_until(
            lambda name=name, before=before: (
                (pids := portal.pids()).get(name) not in (None, before[name]) and set(pids) == set(PROCESSES)
            )
            and pids,
            seconds=120,
            what=f"{name} to come back",
        )
        others = {n: pid for n, pid in before.items() if n != name}
        assert {n: after[n] for n in others} == others, f"killing {name} restarted others"
        wait_until(portal.answers, seconds=180, what=f"the portal to answer after {name} came back")
