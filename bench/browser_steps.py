"""Where a browser launch's time goes: every request of the launch's browser context (all its
tabs) with Chromium's own timing, and the moments the user sees something, as seconds after
the press of *Launch* (JupyterHub: *Sign in*). The launch benchmark's Chromium cases record
one of these per sample; the report prints the median of each step per case.

Steps (each the time it was reached, seconds after the press; a step that does not apply to a
side is absent):
- `page`: the sandbox page (the launch form's redirect; the Hub's spawn-pending page) arrived;
- `placed`, `network`, `started`, `ready`: the create operation's phases (a worker placed its
  node, made its network and volumes, started or adopted its container, and its Jupyter
  answered the portal's probe);
- `running`: the create operation ended: the portal's database says the sandbox runs;
- `open_visible`: *Open Jupyter* showed on the sandbox page (the page's refresh saw it);
- `tab_opened`: the new tab's first request left (the click, from the portal's side);
- `lab_html`: JupyterLab's page (`.../lab`) arrived through the gateway (or the Hub's proxy);
- `lab_assets`: the last of JupyterLab's static files arrived;
- `launcher`: JupyterLab's launcher showed.
and what happened between: the sandbox page's refreshes, the redirects the tab followed before
JupyterLab's page, and the static files' count, bytes and encodings."""

import re
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import cpu

STEPS = (
    "page",
    "placed",
    "network",
    "started",
    "ready",
    "running",
    "open_visible",
    "tab_opened",
    "lab_html",
    "lab_assets",
    "launcher",
)
LAB_PAGE = re.compile(r"/lab/?(\?.*)?$")
STATIC = re.compile(r"/static/")


@dataclass
class Fetch:
    """One request as Chromium timed it: epoch seconds it started and its response ended."""

    url: str
    method: str
    kind: str  # Chromium's resource type: document, script, xhr, fetch, ...
    status: int | None
    started: float
    ended: float
    redirected_to: str = ""
    bytes: int = 0
    encoding: str = ""
    cache_control: str = ""


@dataclass
class BrowserSteps:
    """Listens to one browser context from before the press until the launcher shows."""

    pressed: float = 0.0
    marks: dict = field(default_factory=dict)  # step -> epoch seconds
    _finished: list = field(default_factory=list)

    def watch(self, context) -> None:
        def seen(request) -> None:  # Playwright wraps handlers: a plain function, not a bound builtin
            self._finished.append(request)

        context.on("requestfinished", seen)
        context.on("requestfailed", seen)

    def press(self) -> None:
        self.pressed = time.time()

    def until_launcher(self, context, act) -> float:
        """Watch `context`, press, and run `act` (what the user does, until JupyterLab's
        launcher shows): its seconds. The case's CPU stops counting there, as its figure does."""
        self.watch(context)
        pressed = time.monotonic()
        self.press()
        act()
        seconds = time.monotonic() - pressed
        cpu.answered()
        self.mark("launcher")
        return seconds

    def mark(self, step: str, at: float | None = None) -> None:
        self.marks[step] = time.time() if at is None else at

    def fetches(self) -> list[Fetch]:
        """The requests seen, in the order they started (call before the context closes)."""
        out = []
        for request in self._finished:
            timing = request.timing
            started = timing["startTime"] / 1000
            end_ms = timing.get("responseEnd", -1)
            response = request.response() if request.failure is None else None
            headers = response.headers if response is not None else {}
            try:
                size = request.sizes()["responseBodySize"]
            except Exception:  # noqa: BLE001 - a failed or redirected request has no body to size
                size = 0
            redirected = request.redirected_to
            out.append(
                Fetch(
                    url=request.url,
                    method=request.method,
                    kind=request.resource_type,
                    status=response.status if response is not None else None,
                    started=started,
                    ended=started + end_ms / 1000 if end_ms >= 0 else started,
                    redirected_to=redirected.url if redirected is not None else "",
                    bytes=size,
                    encoding=headers.get("content-encoding", ""),
                    cache_control=headers.get("cache-control", ""),
                )
            )
        return sorted(out, key=lambda f: f.started)

    def troubles(self) -> list[str]:
        """The requests that failed or were refused, for the report of a sample that broke."""
        return [
            f"{f.status or 'failed'} {f.method} {_path(f.url)} at +{f.started - self.pressed:.2f} s"
            for f in self.fetches()
            if f.status is None or f.status >= 400
        ]

    def summary(self, *, sandbox_path: str = "") -> dict:
        """Seconds after the press per step, and what the steps were made of."""
        fetches = self.fetches()
        at = dict(self.marks)
        refreshes = [
            f for f in fetches if sandbox_path and f.kind in ("xhr", "fetch") and sandbox_path in f.url
        ]
        page = next((f for f in fetches if f.kind == "document" and f.started >= self.pressed), None)
        if page is not None and "page" not in at:
            # The first document after the press that is not a redirect: the sandbox page.
            landing = next(
                (
                    f
                    for f in fetches
                    if f.kind == "document" and f.started >= self.pressed and not f.redirected_to
                ),
                page,
            )
            at["page"] = landing.ended
        lab = next(
            (f for f in fetches if f.kind == "document" and LAB_PAGE.search(urlsplit(f.url).path)), None
        )
        if lab is not None:
            at["lab_html"] = lab.ended
        tab_documents = [
            f for f in fetches if f.kind == "document" and f.started >= at.get("open_visible", 0)
        ]
        if tab_documents and "tab_opened" not in at and "open_visible" in at:
            at["tab_opened"] = tab_documents[0].started
        assets = [
            f
            for f in fetches
            if STATIC.search(urlsplit(f.url).path) and lab is not None and f.started >= lab.started
        ]
        if assets:
            at["lab_assets"] = max(f.ended for f in assets)
        hops = [f for f in tab_documents if f.redirected_to] if "open_visible" in at else []
        lab_fetches = [
            f
            for f in fetches
            if lab is not None and f.started >= lab.started and f.ended <= at.get("launcher", float("inf"))
        ]
        return {
            "steps_s": {step: round(at[step] - self.pressed, 3) for step in STEPS if step in at},
            "refreshes": len(refreshes),
            "redirects": [f"{f.status} {_path(f.url)} -> {_path(f.redirected_to)}" for f in hops],
            "redirects_s": round(sum(f.ended - f.started for f in hops), 3),
            "assets": len(assets),
            "asset_bytes": sum(f.bytes for f in assets),
            "asset_encodings": sorted({f.encoding or "identity" for f in assets}),
            "asset_cache_control": sorted({f.cache_control or "-" for f in assets})[:3],
            # From JupyterLab's page to the launcher: the time some request was in flight (the
            # rest is the browser running JupyterLab's code with nothing asked).
            "lab_waiting_s": round(_covered(lab_fetches), 3),
            "lab_span_s": round(at["launcher"] - lab.started, 3)
            if lab is not None and "launcher" in at
            else None,
            # Each of them: path, seconds after JupyterLab's page started it began and ended.
            "lab_timeline": [
                (_path(f.url)[-60:], round(f.started - lab.started, 3), round(f.ended - lab.started, 3))
                for f in lab_fetches
            ],
            "api_calls_before_launcher": len(
                [
                    f
                    for f in fetches
                    if lab is not None
                    and f.kind in ("xhr", "fetch")
                    and f.started >= lab.started
                    and f.started <= at.get("launcher", float("inf"))
                ]
            ),
        }


def _covered(fetches: list[Fetch]) -> float:
    """Seconds during which at least one of the requests was in flight."""
    total, end = 0.0, float("-inf")
    for fetch in sorted(fetches, key=lambda f: f.started):
        if fetch.ended > end:
            total += fetch.ended - max(fetch.started, end)
            end = fetch.ended
    return total


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.port or ''}{parts.path}"


def steps_table(samples: dict) -> str:
    """Median seconds after the press per step, per case: {case: [summary, ...]}."""
    lines = [
        "| case | " + " | ".join(STEPS) + " | page refreshes | redirect hops (s) | static files (MiB) "
        "| JupyterLab: page to launcher, of it requests in flight (s) |",
        "| --- | " + " | ".join("---" for _ in STEPS) + " | --- | --- | --- | --- |",
    ]
    for case, summaries in samples.items():
        if not summaries:
            continue  # every sample of the case broke: the figures table says so
        cells = []
        for step in STEPS:
            values = [s["steps_s"][step] for s in summaries if step in s["steps_s"]]
            cells.append(f"{statistics.median(values):.2f}" if values else "—")
        refreshes = statistics.median(s["refreshes"] for s in summaries)
        hops = statistics.median(s["redirects_s"] for s in summaries)
        count = statistics.median(s["assets"] for s in summaries)
        mib = statistics.median(s["asset_bytes"] for s in summaries) / 2**20
        spans = [s["lab_span_s"] for s in summaries if s.get("lab_span_s") is not None]
        waits = [s["lab_waiting_s"] for s in summaries if s.get("lab_span_s") is not None]
        lab = f"{statistics.median(spans):.2f} ({statistics.median(waits):.2f})" if spans else "—"
        lines.append(
            f"| {case} | " + " | ".join(cells) + f" | {refreshes:g} | {len(summaries[0]['redirects'])} "
            f"({hops:.2f}) | {count:g} ({mib:.1f}) | {lab} |"
        )
    return "\n".join(lines)
