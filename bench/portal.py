"""The portal as an automation client and a browser user see it, over HTTP against the live
server: the create call (`POST /api/v1/sandboxes/`) until the Jupyter that the sandbox's
`endpoints[]` names answers (bench/probe.py). The endpoint's URL is whatever the API gives,
a node address today or the gateway's URL, so the case follows what the portal serves; the
probe carries the user's portal session for a gateway that asks who passes."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.probe import PROBE_EVERY_S, direct_session, jupyter_api_url, wait_until_answers

TIMEOUT_S = 600
DELETED = "deleted"
FAILED = "error"


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

    def create(self, *, item: str, flavor: str, count: int, tag: str) -> float:
        """`count` create calls at once; seconds until every sandbox's Jupyter answers."""
        started = time.monotonic()
        deadline = started + TIMEOUT_S

        created: list[int] = []

        def one(i: int) -> float:
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
            sandbox_id = answer.json()["id"]
            created.append(sandbox_id)
            url = self._jupyter_url(sandbox_id, deadline=deadline)
            return wait_until_answers(self._probe_session(), url, deadline=deadline)

        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                answered = list(pool.map(one, range(count)))
            return max(answered) - started
        finally:
            self.delete(created)

    def _jupyter_url(self, sandbox_id: int, *, deadline: float) -> str:
        """Jupyter's API beside the sandbox's Jupyter endpoint, once the API lists one; looked
        at as often as the probe looks."""
        while time.monotonic() < deadline:
            body = self.api.get(f"{self.url}/api/v1/sandboxes/{sandbox_id}/", timeout=30).json()
            if body["status"] == FAILED:
                raise RuntimeError(f"sandbox {sandbox_id} failed: {body.get('status_detail')}")
            for endpoint in body.get("endpoints") or []:
                if endpoint["service"] == "jupyter":
                    return jupyter_api_url(requests.compat.urljoin(self.url + "/", endpoint["url"]))
            time.sleep(PROBE_EVERY_S)
        raise TimeoutError(f"sandbox {sandbox_id} listed no Jupyter endpoint in time")

    def _probe_session(self) -> requests.Session:
        session = direct_session()
        session.cookies.update(self.browser.cookies)
        return session

    def sandbox_ids(self, *, name: str) -> list[int]:
        """The user's live sandboxes of that name (a launch from the browser answers no id)."""
        answer = self.api.get(f"{self.url}/api/v1/sandboxes/", params={"name": name}, timeout=30).json()
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
