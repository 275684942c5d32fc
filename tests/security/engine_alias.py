"""A second address of the machine's Docker engine: a unix socket elsewhere that forwards every
connection to the engine's own socket, as a second path or proxy to one engine would."""

import os
import select
import socket
import socketserver
import threading
from pathlib import Path


class _Forward(socketserver.BaseRequestHandler):
    def handle(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as engine:
            engine.connect(self.server.target)
            ends = [self.request, engine]
            while True:
                readable, _, _ = select.select(ends, [], [], 30)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (engine if end is self.request else self.request).sendall(data)


class EngineAlias:
    def __init__(self, folder: Path, target: str = "/var/run/docker.sock"):
        self.path = folder / "engine.sock"
        self.server = socketserver.ThreadingUnixStreamServer(str(self.path), _Forward)
        self.server.daemon_threads = True
        self.server.target = os.path.realpath(target)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def __enter__(self) -> "EngineAlias":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
