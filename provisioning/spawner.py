"""PortalSpawner: JupyterHub's spawner for the portal's sandboxes. It runs inside the Hub
process, so it imports nothing of Django: it asks the portal's notebooks API (with the notebook
gateway's service token) to run, poll and stop a single-user server in a sandbox's head node,
and the portal decides whether the Hub user may. One named server per sandbox: the server name
is the sandbox id (`/hub/spawn/<user>/<sandbox id>`).

The sandbox's containers belong to the portal and outlive the notebook: stop ends the server
process only. State (notebook id, address) is kept in the Hub's database, so a restarted Hub
re-attaches to servers that still run."""

import asyncio
import contextlib
import json
import os
import time

from jupyterhub.spawner import Spawner
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Float, Unicode, default

#: get_env() puts the server's Hub API token in these.
TOKEN_VARIABLES = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")


class PortalRefused(web.HTTPError):
    """The portal said no (not a member, sandbox in error, ...). An HTTPError, so the Hub shows
    the portal's message on its error page instead of "Unhandled error"."""

    def __init__(self, message: str, *, status: int = 403):
        super().__init__(status, "%s", message)
        self.jupyterhub_message = message


class PortalSpawner(Spawner):
    portal_url = Unicode(help="The portal's base URL as the Hub reaches it, e.g. http://127.0.0.1:8000").tag(
        config=True
    )
    service_token = Unicode(help="The notebook gateway's portal API token (notebook_gateway_setup)").tag(
        config=True
    )
    wait_interval = Float(2.0, help="Seconds between asks while the sandbox starts").tag(config=True)

    @default("portal_url")
    def _default_portal_url(self):
        return os.environ.get("PORTAL_URL", "http://127.0.0.1:8000")

    @default("service_token")
    def _default_service_token(self):
        return os.environ.get("PORTAL_HUB_SERVICE_TOKEN", "")

    @default("ip")
    def _default_ip(self):
        return "0.0.0.0"  # noqa: S104 - inside the sandbox's head node; the Hub connects to its address

    @default("env_keep")
    def _default_env_keep(self):
        return []  # the Hub's PATH and the like mean nothing inside a sandbox

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notebook_id: int | None = None
        self.node_ip: str | None = None

    @property
    def sandbox_id(self) -> int:
        try:
            return int(self.name)
        except ValueError as exc:
            raise PortalRefused(
                f"Server name {self.name!r} is not a sandbox id: open Jupyter from the portal's sandbox page."
            ) from exc

    def load_state(self, state):
        super().load_state(state)
        self.notebook_id = state.get("notebook_id")
        self.node_ip = state.get("ip")
        if state.get("port"):
            self.port = state["port"]

    def get_state(self):
        state = super().get_state()
        if self.notebook_id is not None:
            state.update(notebook_id=self.notebook_id, ip=self.node_ip, port=self.port)
        return state

    def clear_state(self):
        super().clear_state()
        self.notebook_id = None
        self.node_ip = None

    async def start(self):
        opened = await self._call(
            "POST", "/api/v1/notebooks/", {"sandbox": self.sandbox_id, "user": self.user.name}
        )
        self.notebook_id = opened["id"]
        self.port = opened["port"]  # get_env() puts it into JUPYTERHUB_SERVICE_URL
        environment = self.get_env()
        # The token travels apart: the portal writes it to a file in the node that only the
        # node's user may read, so it is in no process's environment there.
        for name in TOKEN_VARIABLES:
            environment.pop(name, None)
        body = {"environment": environment, "api_token": self.api_token, "args": self.get_args()}
        deadline = time.monotonic() + self.start_timeout
        while True:
            started, code = await self._call_with_status(
                "POST", f"/api/v1/notebooks/{self.notebook_id}/start/", body
            )
            if code == 200:
                break
            if time.monotonic() > deadline:
                raise PortalRefused(
                    f"Sandbox {self.sandbox_id} did not start within {self.start_timeout} seconds."
                )
            self.log.info("sandbox %s is %s; waiting", self.sandbox_id, started.get("sandbox_status"))
            await asyncio.sleep(self.wait_interval)
        self.node_ip = started["ip"]
        return (self.node_ip, self.port)

    async def poll(self):
        if self.notebook_id is None:
            return 0
        last_activity = self.orm_spawner.last_activity if self.orm_spawner is not None else None
        try:
            body = await self._call(
                "POST",
                f"/api/v1/notebooks/{self.notebook_id}/poll/",
                {"last_activity": last_activity.isoformat() + "Z" if last_activity else None},
            )
        except PortalRefused:
            return 0  # the portal no longer knows the notebook
        except OSError as exc:
            # The portal is down, not the server: say running, and ask again next poll.
            self.log.warning("portal did not answer the poll of %s: %s", self.name, exc)
            return None
        return None if body["running"] else 0

    async def stop(self, now=False):
        if self.notebook_id is None:
            return
        with contextlib.suppress(PortalRefused):  # gone already
            await self._call("POST", f"/api/v1/notebooks/{self.notebook_id}/stop/", {})

    async def _call(self, method: str, path: str, body: dict) -> dict:
        answer, _code = await self._call_with_status(method, path, body)
        return answer

    async def _call_with_status(self, method: str, path: str, body: dict) -> tuple[dict, int]:
        request = HTTPRequest(
            self.portal_url.rstrip("/") + path,
            method=method,
            headers={"Authorization": f"Token {self.service_token}", "Content-Type": "application/json"},
            body=json.dumps(body),
            request_timeout=60,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            detail = ""
            if exc.response is not None and exc.response.body:
                try:
                    detail = json.loads(exc.response.body).get("detail", "")
                except (ValueError, AttributeError):
                    detail = exc.response.body[:200].decode("utf-8", "replace")
            # The Hub's 404 page has no room for a message; 403 shows it ("you may not").
            status = 409 if exc.code == 409 else 403
            raise PortalRefused(
                detail or f"The portal answered {exc.code} to {path}.", status=status
            ) from exc
        return json.loads(response.body), response.code
