"""An endpoint's route on the gateway (nginx, deploy/gateway/): one upstream group per endpoint,
listing its ready replicas, in a file of the gateway's run folder that nginx.conf includes. nginx
balances requests over the group itself and, when a replica refuses or fails, retries the next
one; the portal only rewrites the file and asks nginx to reload (SIGHUP), which starts new
workers on the new file and lets the old ones finish the requests they hold: a replica leaves
the rotation before its container stops, so no request is lost to a rollout."""

import contextlib
import os
import signal
import time
from pathlib import Path

from django.conf import settings

from serving.models import Endpoint
from serving.selectors import replica_serving_addresses

#: A group must list a server: with no replica ready, this one is down and nginx answers 502
#: (the portal's answer to the gateway names a replica's address directly while one wakes).
NO_REPLICA = "server 127.0.0.1:9 down;"
#: How long a reload waits for nginx's old workers to hand over to new ones.
RELOAD_WAIT_S = 5.0


class GatewayNotRunning(RuntimeError):
    """No nginx to reload: the route is written and takes effect when the gateway starts."""


def routes_dir() -> Path:
    return Path(settings.GATEWAY_RUN_DIR) / "endpoints"


def route_file(endpoint: Endpoint) -> Path:
    return routes_dir() / f"{endpoint.upstream_name}.conf"


def route_write(*, endpoint: Endpoint, reload: bool = True) -> list[str]:
    """Make the endpoint's upstream group list its ready replicas now. Returns their addresses."""
    addresses = replica_serving_addresses(endpoint=endpoint)
    servers = [f"server {address} max_fails=1 fail_timeout=2s;" for address in addresses] or [NO_REPLICA]
    body = "\n".join(
        [
            f"# Endpoint {endpoint.tenant.slug}/{endpoint.name}, written by serving.services.routes",
            f"upstream {endpoint.upstream_name} {{",
            *(f"    {line}" for line in servers),
            "    keepalive 16;",
            "}",
            "",
        ]
    )
    path = route_file(endpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != body:
        temporary = path.with_suffix(".new")
        temporary.write_text(body)
        temporary.replace(path)
        if reload:
            gateway_reload()
    return addresses


def route_remove(*, endpoint: Endpoint) -> None:
    path = route_file(endpoint)
    if path.exists():
        path.unlink()
        gateway_reload()


def route_names() -> set[str]:
    """The upstream groups that have a file now (the serving reconciler removes strays)."""
    folder = routes_dir()
    return {path.stem for path in folder.glob("*.conf")} if folder.is_dir() else set()


def route_remove_named(*, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (routes_dir() / f"{name}.conf").unlink()
        gateway_reload()


def gateway_reload() -> None:
    """Ask the running nginx to load its configuration again, gracefully, and return once it
    serves with it: nginx answers a SIGHUP at once but starts new workers on the new files a
    moment later, and until the old ones quit they route by the old files (an endpoint said
    ready would answer 502 from a group that listed no replica yet). Bounded by RELOAD_WAIT_S:
    an old worker finishing a long request must not hold a converge. Without a running gateway
    there is nothing to do: it reads the files when it starts."""
    pid_file = Path(settings.GATEWAY_RUN_DIR) / "nginx.pid"
    try:
        pid = int(pid_file.read_text().strip())
        before = _workers_of(pid)
        os.kill(pid, signal.SIGHUP)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return
    deadline = time.monotonic() + RELOAD_WAIT_S
    while time.monotonic() < deadline:
        now = _workers_of(pid)
        if now and not now & before:
            return
        time.sleep(0.05)


def _workers_of(master: int) -> set[int]:
    """The pids whose parent is nginx's master: its workers (and cache helpers)."""
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # After the command's name in parentheses (which may hold spaces): state, ppid.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                workers.add(int(stat.parent.name))
    return workers
