"""Provisioning's service errors in the API's one error format."""

from contextlib import contextmanager

from rest_framework import exceptions, status

from common.errors import ServiceError
from provisioning.errors import InUse, InvalidRequest, NoCapacity, NotFound, StateConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class DetailedError(exceptions.APIException):
    """An error whose body carries fields beside `detail`, e.g. the sandboxes that hold a
    DataTap; `code` stays one string, as the project's error format has it."""

    def __init__(self, message: str, *, code: str, http_status: int, **fields):
        self.status_code = http_status
        self._code = code
        super().__init__({"detail": message, **fields}, code)

    def get_codes(self):
        return self._code


@contextmanager
def service_errors():
    try:
        yield
    except InvalidRequest as exc:
        raise exceptions.ValidationError(exc.errors) from exc
    except NotFound as exc:
        raise DetailedError(
            str(exc), code="not_found", http_status=status.HTTP_404_NOT_FOUND, **exc.errors
        ) from exc
    except InUse as exc:
        raise DetailedError(
            str(exc), code="in_use", http_status=status.HTTP_409_CONFLICT, sandboxes=exc.sandboxes
        ) from exc
    except StateConflict as exc:
        raise Conflict(str(exc), code="state_conflict") from exc
    except NoCapacity as exc:
        raise Conflict(str(exc), code="no_capacity") from exc
    except ServiceError as exc:
        raise DetailedError(exc.message, code=exc.code, http_status=exc.status, **exc.extra) from exc
