"""Provisioning's refusals, in the portal's one error vocabulary (common.errors): the API's
exception handler and the pages' form adapter turn them into answers."""

from common import errors


class InvalidRequest(errors.Invalid):
    """Bad input: nothing was changed. `fields` maps a field to its messages."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(fields=fields)


class StateConflict(errors.Conflict):
    """The sandbox (or job) is in a state that does not allow the action."""

    code = "state_conflict"


class OperationUnderWay(StateConflict):
    """Another operation of the sandbox is under way: retry once it has ended. `extra` names
    that operation and how many seconds to wait before asking again. Its code stays
    `state_conflict`, which clients already handle."""


class NoCapacity(errors.Conflict):
    """No host can take the request; the message says why."""

    code = "no_capacity"


class NotFound(errors.NotFound):
    """Something the request names does not exist for the caller: another tenant's objects
    answer exactly like missing ones. `fields` names the field that named it, if any."""


class InUse(StateConflict):
    """The object cannot be removed while the sandboxes named in `extra["sandboxes"]` use it."""

    code = "in_use"
