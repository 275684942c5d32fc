"""Where the machine's CPU went during one case: inside containers (the notebooks booting) or
outside them (the engine, the portal, its database, the observer). On 2 cores a burst of
notebooks is CPU-bound, so every CPU-second spent outside the containers is time the notebooks
wait: this is what a burst's gap to raw `docker run` is made of.

Totals come from /proc/stat; containers from the engine's cgroup (cgroup v1 `cpuacct/docker`,
or v2 `docker/` with the cgroupfs driver), which keeps the CPU of containers already removed.
Long-lived processes are grouped by what they are; a process that ends within the case (an
exec, a container's shim) is left in `other`."""

import contextlib
import os
import re
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
CONTAINERS_V1 = Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage")
CONTAINERS_V2 = Path("/sys/fs/cgroup/docker/cpu.stat")
#: Process groups, by the start of the command line (first match wins).
GROUPS = (
    ("engine", re.compile(r"^(/\S*/)?(dockerd|containerd)\b")),
    ("database", re.compile(r"^postgres")),
    ("redis", re.compile(r"^(/\S*/)?redis-server")),
    ("workers", re.compile(r".*celery -A portal worker")),
    ("web", re.compile(r".*gunicorn portal\.wsgi")),
    ("gateway", re.compile(r"^nginx")),
    ("peer hub", re.compile(r".*(jupyterhub|configurable-http-proxy)")),
)
BENCH = "bench process"


def snapshot() -> dict[str, float]:
    """Cumulative CPU seconds: `total` (every CPU, busy), `containers`, and per process group."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    out = {"total": (user + nice + system + irq + softirq) * TICK_S, "containers": _containers()}
    me = os.getpid()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        used = sum(int(f) for f in stat.rsplit(")", 1)[1].split()[11:13]) * TICK_S  # utime, stime
        group = BENCH if int(pid) == me else _group(command)
        if group and not _in_container(pid):  # a container's processes are counted with it
            out[group] = out.get(group, 0.0) + used
    return out


def _containers() -> float:
    if CONTAINERS_V1.exists():
        return int(CONTAINERS_V1.read_text()) / 1e9
    if CONTAINERS_V2.exists():
        usage = next(line for line in CONTAINERS_V2.read_text().splitlines() if line.startswith("usage_usec"))
        return int(usage.split()[1]) / 1e6
    return 0.0


def _in_container(pid: str) -> bool:
    try:
        return "/docker/" in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def _group(command: str) -> str | None:
    return next((name for name, pattern in GROUPS if pattern.match(command)), None)


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per part between two snapshots, and `other`: what no named part accounts for."""
    parts = {key: after[key] - before.get(key, 0.0) for key in after}
    named = sum(value for key, value in parts.items() if key not in ("total", "containers"))
    parts["other"] = parts["total"] - parts["containers"] - named
    parts["outside containers"] = parts["total"] - parts["containers"]
    return {key: round(value, 2) for key, value in parts.items()}


_answered: list[dict[str, float]] = []
_started: list[dict[str, float]] = []


def started() -> None:
    """A case whose set-up is not part of its figure calls this where its timing starts: the
    set-up's CPU is not counted either."""
    _started[:] = [snapshot()]


def answered() -> None:
    """A case calls this when its last answer came: its clean-up (containers removed,
    sandboxes deleted) is not counted."""
    if not _answered:
        _answered.append(snapshot())


@contextlib.contextmanager
def cpu_case():
    """Yields a dict that holds, once the case is over, the CPU it spent (`spent`) from here
    until the case called `answered()` (or its end)."""
    out: dict[str, float] = {}
    _answered.clear()
    _started[:] = [snapshot()]
    yield out
    out.update(spent(_started[0], _answered[0] if _answered else snapshot()))
