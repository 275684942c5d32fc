"""An engine address that accepts connections and never answers: an engine that hangs."""

import socket
import threading
from pathlib import Path


class SilentEngine:
    def __init__(self, folder: Path):
        self.path = folder / "silent.sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(16)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def still_waiting(self) -> bool:
        """Whether some client still holds a connection open, waiting for an answer (one that
        gave up has closed its end)."""
        for connection in self.accepted:
            connection.setblocking(False)
            try:
                while connection.recv(65536):  # the request, read and never answered
                    pass
            except BlockingIOError:
                return True  # nothing more to read, and not closed
            except OSError:
                continue
        return False

    def __enter__(self) -> "SilentEngine":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()
