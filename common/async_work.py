"""The one way asynchronous work runs here, for every app: a task says what it wants next with
an `Outcome`, work is handed to a worker only once the transaction that recorded it commits, and
the final write of a piece of work is race-safe (of two workers, one closes it).

Each entity's states and their transition table live in its app's `states` module; the
`Transition` shape they share is defined here, below every app."""

import logging
from dataclasses import dataclass

from django.db import models, transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transition:
    """An action allowed from the states in `allowed_from`: the entity is `through` while the
    work runs and `ends` in that state when it succeeds (`fails` when it does not)."""

    allowed_from: frozenset
    through: str
    ends: str
    fails: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker's step says: look again in `again_in` seconds, or (None) the work is over.
    `on_nodes`: what is left is waiting for nodes to answer, which a watcher follows, rather
    than a step to try again."""

    again_in: float | None = None
    on_nodes: bool = False


def enqueue_after_commit(task, object_id: int | str, *, what: str) -> None:
    """Hand the work to a worker once the transaction that recorded it commits: a worker must
    never see a row the database does not have yet.

    The work is already recorded when the message is sent, so a broker that does not answer must
    not turn an accepted request into an error: the reconciler hands every operation, job or
    image build that made no progress to a worker again."""

    def send() -> None:
        try:
            task.delay(object_id)
        except OperationalError as exc:
            log.warning("broker down, %s %s waits for the reconciler: %s", what, object_id, exc)

    transaction.on_commit(send)


def close_unless_final(model: type[models.Model], pk: int, *, final: frozenset, **fields) -> bool:
    """Write the closing fields (status, explanation, finished, ...) of a piece of work in one
    conditional UPDATE, only while its status is not final yet: of two racing workers, one
    closes it and the other changes nothing. Says whether this call closed it."""
    return bool(model.objects.filter(pk=pk).exclude(status__in=final).update(**fields))
