"""The floor of every Chromium case: JupyterLab alone. A container of the same image started
with `docker run` and settled (not timed: Jupyter and TensorBoard answer, and Jupyter was asked
once for what it builds on first asking, as the warm pool does), then a fresh browser context
opens its JupyterLab page directly (no portal, no Hub, no gateway, the token in the URL) until
the launcher shows.
Whatever a launcher does before JupyterLab's page arrives comes on top of this figure, so a
Chromium goal below it cannot be met by any launcher on this machine."""

import secrets
import time

import requests

from bench import cpu
from bench.browser_steps import BrowserSteps
from bench.probe import PROBE_EVERY_S, direct_session, jupyter_api_url, wait_until_answers
from provisioning.services.jupyter_warmup import jupyter_warm_up

JUPYTER_PORT = 8888
TENSORBOARD_PORT = 6006  # the image's side server, started once Jupyter answers
START_TIMEOUT_S = 300


def lab_alone_to_launcher(client, page, *, image: str, name: str, launcher_wait, steps_out: list) -> float:
    """Seconds from asking for JupyterLab's page to its launcher showing. `launcher_wait(page,
    steps, name)` waits as the other Chromium cases do."""
    token = secrets.token_hex(16)
    container = client.containers.run(image, name=name, detach=True, environment={"JUPYTER_TOKEN": token})
    try:
        ip = ""
        while not ip:
            ip = client.api.inspect_container(container.id)["NetworkSettings"]["IPAddress"]
        url = f"http://{ip}:{JUPYTER_PORT}/lab"
        deadline = time.monotonic() + START_TIMEOUT_S
        wait_until_answers(direct_session(), jupyter_api_url(url), deadline=deadline)
        _wait_until_serves(f"http://{ip}:{TENSORBOARD_PORT}/tensorboard/", deadline=deadline)
        jupyter_warm_up(ip=ip, port=JUPYTER_PORT, base_url="/", token=token)
        cpu.started()
        steps = BrowserSteps()

        def open_lab() -> None:
            page.goto(f"{url}?token={token}")
            launcher_wait(page, steps, name)

        seconds = steps.until_launcher(page.context, open_lab)
        steps_out.append(steps.summary())
        return seconds
    finally:
        page.context.close()
        container.remove(force=True)


def _wait_until_serves(url: str, *, deadline: float) -> None:
    session = direct_session()
    while time.monotonic() < deadline:
        try:
            session.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(PROBE_EVERY_S)
    raise TimeoutError(f"{url} did not answer")
