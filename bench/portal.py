"""The portal as an automation client and a browser user see it, over HTTP against its web
process (bench/web.py): the create call (`POST /api/v1/sandboxes/`) until the Jupyter that the sandbox's
`endpoints[]` names answers (bench/probe.py). The endpoint's URL is whatever the API gives,
a node address today or the gateway's URL, so the case follows what the portal serves; the
probe carries the user's portal session for a gateway that asks who passes."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests

from bench import cpu
from bench.probe import PROBE_EVERY_S, direct_session, jupyter_api_url, wait_until_answers
from provisioning.models import Operation

TIMEOUT_S = 600
DELETED = "deleted"
FAILED = "error"


#: Where one create's time went, seconds after its call: the create operation's phases, the
#: operation's end (the API says running) and the bench's probe getting Jupyter's answer.
CREATE_STEPS = ("placed", "network", "started", "ready", "running", "answered")


def create_marks(sandbox_id: int) -> dict[str, float]:
    """The sandbox's create operation's phases and its end (epoch seconds): from its end on the
    portal says the sandbox runs."""
    operation = Operation.objects.filter(sandbox_id=sandbox_id, kind=Operation.Kind.CREATE).first()
    if operation is None:
        return {}
    marks = {m["phase"]: datetime.fromisoformat(m["at"]).timestamp() for m in operation.phases}
    if operation.finished:
        marks["running"] = operation.finished.timestamp()
    return marks


def create_steps(sandbox_id: int, *, started: float, answered: float) -> dict:
    at = {**create_marks(sandbox_id), "answered": answered}
    return {step: round(at[step] - started, 3) for step in CREATE_STEPS if step in at}


def create_steps_table(samples: dict) -> str:
    """Median seconds after the create call per step: {(case, count): [create_steps, ...]}."""
    lines = [
        "| case | at once | " + " | ".join(CREATE_STEPS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in CREATE_STEPS) + " |",
    ]
    for (case, count), rows in samples.items():
        cells = []
        for step in CREATE_STEPS:
            values = [row[step] for row in rows if step in row]
            cells.append(f"{statistics.median(values):.2f}" if values else "—")
        lines.append(f"| {case} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Portal:
    def __init__(self, *, url: str, username: str, password: str, tenant: str):
        self.url = url.rstrip("/")
        self.tenant = tenant
        self.username = username
        self.api = direct_session()
        answer = self.api.post(
            f"{self.url}/api/v1/auth/token/", data={"username": username, "password": password}, timeout=30
        )
        answer.raise_for_status()
        self.api.headers["Authorization"] = f"Token {answer.json()['token']}"
        self.browser = direct_session()  # the user's session cookie, as a browser holds it
        self.browser.get(f"{self.url}/login/", timeout=30)
        self.browser.post(
            f"{self.url}/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.browser.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{self.url}/login/"},
            timeout=30,
        ).raise_for_status()

    def create(self, *, item: str, flavor: str, count: int, tag: str, steps_out: list | None = None) -> float:
        """`count` create calls at once; seconds until every sandbox's Jupyter answers. One
        listing of the tenant's sandboxes per probe interval learns their endpoints, as a
        client waiting for a burst would, so the observer does not load the portal `count`
        times over; each endpoint is then probed on its own, as the floor probes its nodes.
        `steps_out` gets, per sandbox, where its time went (create_steps)."""
        started, wall_started = time.monotonic(), time.time()
        deadline = started + TIMEOUT_S
        created: list[int] = []

        def one(i: int) -> None:
            answer = self.api.post(
                f"{self.url}/api/v1/sandboxes/",
                json={
                    "tenant": self.tenant,
                    "name": f"bench-{tag}-{i}",
                    "catalog_item": item,
                    "flavor": flavor,
                },
                timeout=TIMEOUT_S,
            )
            if answer.status_code != 202:
                raise RuntimeError(f"create {i}: {answer.status_code} {answer.text}")
            created.append(answer.json()["id"])

        try:
            calls, probes = ThreadPoolExecutor(max_workers=count), ThreadPoolExecutor(max_workers=count)
            with calls, probes:
                creating = [calls.submit(one, i) for i in range(count)]
                answering = {}
                while len(answering) < count:
                    for sandbox_id, url in self._jupyter_urls(ids=created, deadline=deadline).items():
                        if sandbox_id not in answering:
                            session = self._probe_session()
                            answering[sandbox_id] = probes.submit(
                                wait_until_answers, session, url, deadline=deadline
                            )
                    for call in creating:
                        if call.done():
                            call.result()  # a refused create ends the case with its answer
                    time.sleep(PROBE_EVERY_S)
                answered = {sandbox_id: probe.result() for sandbox_id, probe in answering.items()}
                cpu.answered()
                if steps_out is not None:
                    steps_out.extend(
                        create_steps(sandbox_id, started=wall_started, answered=wall_started + at - started)
                        for sandbox_id, at in answered.items()
                    )
                return max(answered.values()) - started
        finally:
            self.delete(created)

    def _jupyter_urls(self, *, ids: list[int], deadline: float) -> dict[int, str]:
        """Jupyter's API beside the Jupyter endpoint of each of these sandboxes that runs, from
        one listing."""
        if time.monotonic() > deadline:
            raise TimeoutError("the sandboxes did not all list a Jupyter endpoint in time")
        answer = self.api.get(
            f"{self.url}/api/v1/sandboxes/",
            params={"tenant": self.tenant, "status": ["running", FAILED]},
            timeout=30,
        ).json()
        urls = {}
        for body in answer["results"] if isinstance(answer, dict) else answer:
            if body["id"] not in ids:
                continue
            if body["status"] == FAILED:
                raise RuntimeError(f"sandbox {body['id']} failed: {body.get('status_detail')}")
            for endpoint in body.get("endpoints") or []:
                if endpoint["service"] == "jupyter":
                    url = requests.compat.urljoin(self.url + "/", endpoint["url"])
                    urls[body["id"]] = jupyter_api_url(url)
        return urls

    def _probe_session(self) -> requests.Session:
        session = direct_session()
        session.cookies.update(self.browser.cookies)
        return session

    def sandbox_ids(self, *, name: str) -> list[int]:
        """The user's live sandboxes of that name (a launch from the browser answers no id)."""
        listed = self.api.get(f"{self.url}/api/v1/sandboxes/", params={"tenant": self.tenant}, timeout=30)
        answer = listed.json()
        rows = answer["results"] if isinstance(answer, dict) else answer
        return [row["id"] for row in rows if row["name"] == name and row["status"] != DELETED]

    def delete(self, ids: list[int]) -> None:
        for sandbox_id in ids:
            self.api.delete(f"{self.url}/api/v1/sandboxes/{sandbox_id}/", timeout=60)
        deadline = time.monotonic() + TIMEOUT_S
        for sandbox_id in ids:
            while time.monotonic() < deadline:
                body = self.api.get(f"{self.url}/api/v1/sandboxes/{sandbox_id}/", timeout=30).json()
                if body["status"] == DELETED:
                    break
                time.sleep(0.5)
