"""Launch latency, measured side by side: the portal against a raw `docker run` of the same image
whose readiness is polled the same way (the same probe of the same services, as often).

A library for the benchmarks in this folder: each side returns seconds from the first create
call until every launched notebook answers. Nothing here asserts anything about speed."""

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from catalog.manifest import Service
from provisioning.models import Node, Sandbox
from provisioning.services.readiness import services_answer
from provisioning.states import SandboxStatus

#: Both sides look this often, the portal's readiness watcher too (PROBE_EVERY_S).
PROBE_EVERY_S = 0.1
TIMEOUT_S = 600
SUPERVISOR_CONF = Path(__file__).resolve().parent.parent / "deploy" / "supervisor" / "portal.conf"


def production_workers() -> list[dict]:
    """The Celery worker programs `make run` starts (their queues and thread counts), read from
    the supervisord configuration so the benchmark runs the workers production runs."""
    text = SUPERVISOR_CONF.read_text()
    workers = []
    for name, command in re.findall(r"^\[program:(worker[\w-]*)\]\ncommand=(.*)$", text, re.M):
        queues = re.search(r"--queues (\S+)", command)
        concurrency = re.search(r"--concurrency (\d+)", command)
        workers.append(
            {
                "name": name,
                "queues": tuple(queues.group(1).split(",")) if queues else (),
                "concurrency": int(concurrency.group(1)) if concurrency else 8,
            }
        )
    return workers


def wait_until_answers(ip: str, services: tuple[Service, ...], deadline: float) -> float:
    """Probe until every service answers; the monotonic time it did."""
    while time.monotonic() < deadline:
        if services_answer(ip=ip, services=services) is True:
            return time.monotonic()
        time.sleep(PROBE_EVERY_S)
    raise TimeoutError(f"{ip} did not answer within {TIMEOUT_S} s")


def raw_docker_run(client, *, image: str, services, environment: dict, count: int, tag: str) -> float:
    """The baseline: `docker run -d` of the image, `count` at once, each probed until its
    services answer. Seconds from the first run call until the last one answers."""
    names = [f"bench-raw-{tag}-{i}" for i in range(count)]
    started = time.monotonic()
    deadline = started + TIMEOUT_S

    def run(name: str) -> float:
        container = client.containers.run(image, name=name, detach=True, environment=environment)
        ip = None
        while not ip:
            ip = client.api.inspect_container(container.id)["NetworkSettings"]["IPAddress"]
        return wait_until_answers(ip, services, deadline)

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            answered = list(pool.map(run, names))
        return max(answered) - started
    finally:
        for name in names:
            client.api.remove_container(name, force=True)


@dataclass
class PortalRun:
    """One portal launch of `count` sandboxes: until every one is `running` (what the user is
    told), until every head node's services answer (probed as the baseline is), and the phases
    each create operation recorded, where the portal records them."""

    running_s: float
    answers_s: float
    phases: list = field(default_factory=list)


def portal_launch(api, *, tenant: str, item: str, flavor: str, count: int, tag: str) -> PortalRun:
    ids = []
    started = time.monotonic()
    deadline = started + TIMEOUT_S
    for i in range(count):
        response = api.post(
            "/api/v1/sandboxes/",
            {"tenant": tenant, "name": f"bench-{tag}-{i}", "catalog_item": item, "flavor": flavor},
            format="json",
        )
        assert response.status_code == 202, response.json()
        ids.append(response.json()["id"])
    running, answered = {}, {}
    services = Sandbox.objects.get(pk=ids[0]).catalog_item.spec.head.services
    while len(running) < count or len(answered) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"sandboxes {ids} were not all running within {TIMEOUT_S} s")
        statuses = dict(Sandbox.objects.filter(pk__in=ids).values_list("pk", "status"))
        failed = [pk for pk, status in statuses.items() if status == SandboxStatus.ERROR]
        assert not failed, f"sandboxes {failed} failed"
        now = time.monotonic()
        running.update(
            {pk: now for pk, status in statuses.items() if status == "running" and pk not in running}
        )
        heads = Node.objects.filter(sandbox_id__in=ids, role="head", ip__isnull=False).values_list(
            "sandbox_id", "ip"
        )
        for pk, ip in heads:
            if pk not in answered and services_answer(ip=ip, services=services) is True:
                answered[pk] = time.monotonic()
        time.sleep(PROBE_EVERY_S)
    result = PortalRun(running_s=max(running.values()) - started, answers_s=max(answered.values()) - started)
    for sandbox_id in ids:
        operation = api.get(f"/api/v1/sandboxes/{sandbox_id}/operations/").json()
        rows = operation["results"] if isinstance(operation, dict) else operation
        result.phases.append(rows[-1].get("phases", []))
        api.delete(f"/api/v1/sandboxes/{sandbox_id}/")
    while Sandbox.objects.filter(pk__in=ids).exclude(status=SandboxStatus.DELETED).exists():
        time.sleep(0.2)
    return result


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)
