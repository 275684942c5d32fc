"""Provisioning's service errors in the API's one error format."""

from contextlib import contextmanager

from rest_framework import exceptions, status

from provisioning.errors import InvalidRequest, NoCapacity, StateConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@contextmanager
def service_errors():
    try:
        yield
    except InvalidRequest as exc:
        raise exceptions.ValidationError(exc.errors) from exc
    except StateConflict as exc:
        raise Conflict(str(exc), code="state_conflict") from exc
    except NoCapacity as exc:
        raise Conflict(str(exc), code="no_capacity") from exc
