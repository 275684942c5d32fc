"""The one readiness probe every side of the launch benchmark uses: an HTTP GET of Jupyter's
API (`<base>/api`, which answers its version without a token) from this host, every
PROBE_EVERY_S, until it answers 200. Raw `docker run`, JupyterHub and the portal are observed
through this same function, at the same interval, so no side gains from how it is watched."""

import time

import requests
from requests.adapters import HTTPAdapter

#: Sessions are shared by the threads of a burst (16 at once): one connection each.
POOL_SIZE = 32
#: The portal's own readiness probe (branch `launch`, PROBE_EVERY_S) looks this often too.
PROBE_EVERY_S = 0.1
ANSWER_TIMEOUT_S = 1.0


def jupyter_api_url(url: str, service_path: str = "/lab") -> str:
    """Jupyter's API beside the page a link opens: `http://10.0.0.2:8888/lab` gives
    `http://10.0.0.2:8888/api`; a gateway's `/gateway/k/jupyter/lab` gives `.../jupyter/api`."""
    if service_path and url.rstrip("/").endswith(service_path.rstrip("/")):
        url = url.rstrip("/")[: -len(service_path.rstrip("/"))]
    return url.rstrip("/") + "/api"


def jupyter_answers(session: requests.Session, api_url: str) -> bool:
    try:
        answer = session.get(api_url, timeout=ANSWER_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException:
        return False
    return answer.status_code == 200 and "version" in answer.text


def wait_until_answers(session: requests.Session, api_url: str, *, deadline: float) -> float:
    """Probe until Jupyter answers; the monotonic time it did."""
    while time.monotonic() < deadline:
        if jupyter_answers(session, api_url):
            return time.monotonic()
        time.sleep(PROBE_EVERY_S)
    raise TimeoutError(f"{api_url} did not answer in time")


def direct_session() -> requests.Session:
    """A session that never goes through an HTTP proxy of the environment (the probe talks to
    container addresses on this host), with a connection for each thread of a burst."""
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
