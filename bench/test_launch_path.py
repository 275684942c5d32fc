"""Issue 16's launch path, measured side by side in one run on the same image and flavor
(jupyter-pytorch, small), every side observed by the same probe (bench/probe.py):

- create until Jupyter answers, for 1, 8 and 16 at once: raw `docker run` (the floor),
  JupyterHub + DockerSpawner (the peer), the portal cold and the portal warm (a pool of as many
  ready nodes as the launches, made before and emptied after each measurement: bench/pool.py);
- in Chromium: the portal's *Launch* until JupyterLab's launcher shows (through *Open
  Jupyter*), cold and warm, and the Hub's log-in until the launcher shows; and JupyterLab alone,
  its page on a server already running until the launcher shows (bench/lab_alone.py): the
  floor under every Chromium case.

Prints every figure and ratio and writes var/bench/launch_path.json; BENCHMARKS.md shows the
table. A case is one entry of `api_cases`. It measures and asserts nothing about speed.

BENCH_ROUNDS (default 3) rounds for 1 and 8 at once, BENCH_ROUNDS_16 (default 1) for 16, and
BENCH_COUNTS (default 1,8,16; empty: the Chromium cases only) bound the run; each round
alternates which case goes first. Each Chromium sample also records where its time went
(bench/browser_steps.py): the report adds the median of each step per case."""

import os
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser_steps import BrowserSteps, steps_table
from bench.conftest import FLAVOR, ITEM, PASSWORD
from bench.lab_alone import lab_alone_to_launcher
from bench.peer_hub import PASSWORD as HUB_PASSWORD
from bench.pool import WarmPool
from bench.portal import Portal, create_marks, create_steps_table
from bench.raw import raw_docker_run
from bench.report import HUB, RAW, Report
from bench.web import bench_gateway, live_server, notebook_gateway  # noqa: F401 - the deployed web side
from tests.browser.fixtures import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ROUNDS_16 = int(os.environ.get("BENCH_ROUNDS_16", "1"))
COUNTS = tuple(int(c) for c in os.environ.get("BENCH_COUNTS", "1,8,16").split(",") if c.strip())
PORTAL_COLD = "portal cold"
PORTAL_WARM = "portal warm"
LAB_ALONE = "JupyterLab alone (server already running)"
LAB_TIMEOUT_MS = 300_000
LAUNCHER = ".jp-LauncherCard"


def test_launch_path(
    image,
    bench_user,
    site_admin,
    live_server,  # noqa: F811 - bench.web's: the portal as deployed
    celery_worker_process,
    peer_hub,
    notebook_gateway,  # noqa: F811
    new_page,
    docker_client,
):
    report = Report(image=image, flavor=FLAVOR)
    portal = Portal(url=live_server.url, username=bench_user.username, password=PASSWORD, tenant="lab")
    pool = WarmPool(admin=site_admin, item=ITEM, flavor=FLAVOR)
    api_cases = {
        RAW: lambda count, tag: raw_docker_run(docker_client, image=image, count=count, tag=tag),
        HUB: lambda count, tag: peer_hub.spawn(count=count, tag=tag),
        PORTAL_COLD: lambda count, tag: portal.create(
            item=ITEM,
            flavor=FLAVOR,
            count=count,
            tag=tag,
            steps_out=report.create_steps_of(PORTAL_COLD, count),
        ),
        PORTAL_WARM: lambda count, tag: pool.around(
            count,
            lambda: portal.create(
                item=ITEM,
                flavor=FLAVOR,
                count=count,
                tag=f"w{tag}",
                steps_out=report.create_steps_of(PORTAL_WARM, count),
            ),
        ),
    }
    try:
        for count in COUNTS:
            path = f"create until Jupyter answers, {count} at once"
            rounds = ROUNDS_16 if count >= 16 else ROUNDS
            for round_no in range(rounds):
                names = list(api_cases)
                shift = round_no % len(names)
                for case in names[shift:] + names[:shift]:
                    tag = f"c{count}r{round_no}"
                    report.measure(path, case, lambda c=case, n=count, t=tag: api_cases[c](n, t))
            if rounds == 1:
                report.notes.append(f"{count} at once: one round only, not a median")

        path = "Chromium: Launch (JupyterHub: log in) until JupyterLab's launcher"
        for round_no in range(ROUNDS):
            browser_cases = [
                (
                    HUB,
                    lambda r=round_no: _hub_login_to_launcher(
                        new_page(), peer_hub, f"web{r}", report.steps_of(HUB)
                    ),
                ),
                (
                    PORTAL_COLD,
                    lambda r=round_no: _portal_launch_to_launcher(
                        new_page(), portal, f"web{r}", report.steps_of(PORTAL_COLD)
                    ),
                ),
                (
                    PORTAL_WARM,
                    lambda r=round_no: pool.around(
                        1,
                        lambda: _portal_launch_to_launcher(
                            new_page(), portal, f"warm{r}", report.steps_of(PORTAL_WARM)
                        ),
                    ),
                ),
                (
                    LAB_ALONE,
                    lambda r=round_no: lab_alone_to_launcher(
                        docker_client,
                        new_page(),
                        image=image,
                        name=f"bench-lab-alone-{r}",
                        launcher_wait=_launcher_wait,
                        steps_out=report.steps_of(LAB_ALONE),
                    ),
                ),
            ]
            shift = round_no % len(browser_cases)
            browser_cases = browser_cases[shift:] + browser_cases[:shift]
            for case, measure in browser_cases:
                report.measure(path, case, measure)
    finally:
        print("\n" + report.table())
        if report.steps:
            print("\n" + steps_table(report.steps))
        if report.create_steps:
            print("\n" + create_steps_table(report.create_steps))
        print(f"\nmachine: {report.machine}\nwritten: {', '.join(map(str, report.write()))}")
    # A case that broke is reported above with the rest, and fails the run: its figure is missing.
    if report.failures:
        pytest.fail("cases that did not finish:\n" + "\n".join(report.failures))


def _hub_login_to_launcher(page, hub, username: str, steps_out: list) -> float:
    steps = BrowserSteps()
    try:
        page.goto(f"{hub.url}/hub/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(HUB_PASSWORD)

        def sign_in() -> None:
            page.get_by_role("button", name="Sign in").click()
            page.locator(LAUNCHER).first.wait_for(timeout=LAB_TIMEOUT_MS)

        seconds = steps.until_launcher(page.context, sign_in)
        steps_out.append(steps.summary())
        return seconds
    finally:
        page.context.close()
        hub.stop_servers([username])


def _portal_launch_to_launcher(page, portal, name: str, steps_out: list) -> float:
    """The launch form's submit, the sandbox page until it offers *Open Jupyter*, its tab until
    JupyterLab's launcher shows: what a user does and waits for."""
    login(page, username=portal.username, password=PASSWORD)
    page.goto(f"/sandboxes/new/?app={ITEM}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Size (flavor)").select_option(FLAVOR)
    page.locator("#quota-check").filter(has_text="Fits within the quota").wait_for()
    steps = BrowserSteps()

    def launch_and_open() -> None:
        page.get_by_role("button", name="Launch", exact=True).click()
        page.wait_for_url(re.compile(r".*/sandboxes/\d+/$"))
        link = page.get_by_role("link", name="Open Jupyter", exact=True)
        link.wait_for(timeout=LAB_TIMEOUT_MS)
        steps.mark("open_visible")
        with page.context.expect_page() as opened:
            link.click()
        _launcher_wait(opened.value, steps, name)

    try:
        seconds = steps.until_launcher(page.context, launch_and_open)
        sandbox_path = re.sub(r"^https?://[^/]+", "", page.url)
        sandbox_id = int(re.search(r"/sandboxes/(\d+)/", sandbox_path).group(1))
        for step, at in create_marks(sandbox_id).items():
            steps.mark(step, at)
        steps_out.append(steps.summary(sandbox_path=sandbox_path))
        return seconds
    finally:
        page.context.close()
        portal.delete(portal.sandbox_ids(name=name))


def _launcher_wait(lab, steps: BrowserSteps, name: str) -> None:
    """Until JupyterLab's launcher shows; a tab that never gets there is reported with what it
    shows (a screenshot in var/test-artifacts/) and the requests that failed."""
    try:
        lab.locator(LAUNCHER).first.wait_for(timeout=LAB_TIMEOUT_MS)
    except PlaywrightTimeout as exc:
        shot = screenshot(lab, f"bench-{name}-no-launcher")
        shows = lab.locator("body").inner_text(timeout=5_000)[:300].replace("\n", " ")
        raise RuntimeError(
            f"no launcher at {lab.url}; the tab shows {shows!r} ({shot}); failed requests: "
            + ("; ".join(steps.troubles()) or "none")
        ) from exc
