"""Errors the provisioning services raise for the callers (views, API) to translate."""


class InvalidRequest(Exception):
    """Bad input: nothing was changed. `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))


class StateConflict(Exception):
    """The sandbox is in a state that does not allow the action (API: 409)."""

    def __init__(self, message: str, *, status: str):
        self.status = status
        super().__init__(message)


class NoCapacity(Exception):
    """No host can take the request (API: 409); the message says why."""


class NotFound(Exception):
    """Something the request names does not exist for the caller (API: 404): another
    tenant's objects answer exactly like missing ones. `errors` maps a field to its messages."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        self.errors = errors or {}
        super().__init__(message)


class InUse(StateConflict):
    """The object cannot be removed while these sandboxes use it (API: 409)."""

    def __init__(self, message: str, *, sandboxes: list[str]):
        self.sandboxes = sandboxes
        super().__init__(message, status="in_use")
