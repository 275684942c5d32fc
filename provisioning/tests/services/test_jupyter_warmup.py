"""Warming a pooled node's Jupyter: the first-load requests of JupyterLab, asked once with the
node's own token, against a real HTTP server standing in for Jupyter on this machine. A request
that fails or a server that is gone costs nothing but the answer count."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from provisioning.services.jupyter_warmup import WARM_UP_PATHS, jupyter_warm_up


@pytest.fixture
def jupyter():
    """Answers 200 to everything but the translations, which fail (500); records each request."""
    seen: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            seen.append(("GET", self.path, self.headers.get("Authorization", "")))
            failing = self.path.endswith("/lab/api/translations")
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_the_first_load_requests_are_asked_once_with_the_nodes_token(jupyter):
    port, seen = jupyter
    answered = jupyter_warm_up(ip="127.0.0.1", port=port, base_url="/gateway/k1/jupyter/", token="t0k")

    assert [path for _method, path, _auth in seen] == [f"/gateway/k1/jupyter/{p}" for p in WARM_UP_PATHS]
    assert {method for method, _path, _auth in seen} == {"GET"}  # reads only
    assert {auth for _method, _path, auth in seen} == {"token t0k"}
    assert answered == len(WARM_UP_PATHS) - 1  # the failing one is skipped, the rest still asked


def test_a_node_that_does_not_answer_costs_only_the_count():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now

    assert jupyter_warm_up(ip="127.0.0.1", port=port, base_url="/", token="t") == 0
