"""The services the tests and the bench run as processes of their own (nginx, gunicorn, the
peer JupyterHub): each in its own process group, waited for until it serves, stopped with its
children."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_serving(
    process: subprocess.Popen, serves: Callable[[], bool], *, what: str, log: Path, seconds: float
):
    """Until `serves()` is true; an error naming the log if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
        if serves():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {seconds}s; see {log}")


def stop_group(process: subprocess.Popen | None, *, timeout_s: float = 30) -> None:
    """SIGTERM to the process's group, SIGKILL if it is still there after `timeout_s`."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
