"""A pooled node's Jupyter, warmed before a launch can claim it. Jupyter builds much of what
JupyterLab's first load asks for only when first asked (the language packs behind its
translations, the settings schemas, the contents manager): on the 2-core development machine,
under load, the first round of these requests took 2.2 s and the next 0.4 to 0.9 s, and the
slowest (translations, 0.9 s the first time, 0.05 s after) lies on the path of the claimer's
first JupyterLab page. The pool asks for them once, with the pooled node's own token, before it
counts the node ready; a node started cold pays them on its user's first load, as before.

Only reads (GETs), on the pooled node's own server, which holds nothing of any tenant."""

import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)

#: What JupyterLab asks for on its first load whose first answer is slow, under Jupyter's
#: base URL.
WARM_UP_PATHS = (
    "lab",
    "lab/api/settings",
    "lab/api/translations",
    "lab/api/translations/default",
    "api/contents?content=1",
    "api/kernelspecs",
)
#: Long enough for a first answer on a loaded host (about 1 s), short enough not to hold the
#: pool's pass on a node that hangs: warming is a help, never a condition.
WARM_UP_TIMEOUT_S = 5
# The node's address is on this machine's bridge: never through a proxy of the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def jupyter_warm_up(*, ip: str, port: int, base_url: str, token: str) -> int:
    """Ask the Jupyter at ip:port (serving under `base_url`) for WARM_UP_PATHS, in turn; returns
    how many answered 200. A failure is logged and skipped."""
    answered = 0
    for path in WARM_UP_PATHS:
        request = urllib.request.Request(
            f"http://{ip}:{port}{base_url}{path}", headers={"Authorization": f"token {token}"}
        )
        try:
            with _OPENER.open(request, timeout=WARM_UP_TIMEOUT_S) as answer:
                answer.read()
                answered += answer.status == 200
        except (urllib.error.URLError, OSError) as exc:
            log.info("warming %s:%s%s: %s", ip, port, path, exc)
    return answered
