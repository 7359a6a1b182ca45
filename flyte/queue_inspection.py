"""The seam through which the API reads and repairs the work queues of the broker.

Broker-neutral and standard library only: ``workers/inspection.py`` implements
it for Dramatiq's Redis broker. A broker that cannot tell something answers
``None`` for it (a count) or an empty list (messages, workers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any
from typing import Protocol

#: Most messages one page lists.
MAX_PAGE_SIZE = 200


class MessageState(StrEnum):
    """Where a message waits in its queue."""

    #: Waiting for a worker.
    READY = "ready"
    #: Waiting for its time (a retry's backoff, or a delayed send).
    DELAYED = "delayed"
    #: Given up after its last retry: dead-lettered.
    DEAD = "dead"
    #: Fetched by a worker and not yet acknowledged.
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class QueueDepth:
    """How many messages one queue holds by state; ``None``: the broker cannot tell."""

    name: str
    ready: int | None
    delayed: int | None
    dead: int | None
    #: Fetched by workers and not yet acknowledged.
    in_flight: int | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """One message of a queue, as much of it as the broker shows."""

    #: The id the broker keeps this copy under: what requeue and delete take.
    message_id: str
    queue: str
    actor: str
    args: Sequence[Any]
    kwargs: dict[str, Any]
    #: How many times it failed and was retried.
    retries: int
    enqueued_at: datetime | None
    #: The traceback of its last failure, if it failed.
    last_error: str | None
    state: MessageState
    #: When it was dead-lettered (dead) or is due (delayed).
    state_since: datetime | None = None


@dataclass(frozen=True)
class MessagePage:
    """One page of a queue's messages in one state."""

    messages: list[QueuedMessage]
    #: Messages in that state in all; ``None`` when the broker cannot tell.
    total: int | None
    offset: int
    limit: int


@dataclass(frozen=True)
class WorkerInfo:
    """A broker process seen recently: a worker, or an API process that only sends."""

    worker_id: str
    last_heartbeat: datetime
    #: Whether its last heartbeat is recent enough for the broker to count it alive.
    alive: bool
    #: The messages it fetched and has not acknowledged yet (up to a page).
    in_flight: list[QueuedMessage] = field(default_factory=list)
    in_flight_count: int = 0


class QueueInspector(Protocol):
    """Reads queue depths, messages and workers; repairs dead-lettered messages.

    Raises ``flyte.errors.Unavailable`` when the broker cannot be reached.
    """

    def depths(self) -> list[QueueDepth]:
        """Every queue the broker knows, by name."""

    def messages(
        self, queue: str, state: MessageState, offset: int = 0, limit: int = 50
    ) -> MessagePage:
        """One page of ``queue``'s messages in ``state`` (ready, delayed or dead)."""

    def requeue_dead(self, queue: str, message_id: str) -> bool:
        """Send one dead-lettered message back to its queue; False if it is gone."""

    def delete_dead(self, queue: str, message_id: str) -> bool:
        """Drop one dead-lettered message; False if it is gone."""

    def requeue_all_dead(self, queue: str) -> int:
        """Send every dead-lettered message of ``queue`` back; how many were sent."""

    def workers(self) -> list[WorkerInfo]:
        """The broker processes seen, most recent heartbeat first."""
