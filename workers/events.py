"""The actor that runs the engine on each stored event, and its retry policy."""

from __future__ import annotations

import dramatiq

from flyte.errors import FlyteError
from flyte.errors import Retryable
from workers.context import WorkerContext
from workers.messages import HANDLE_EVENT

#: Retries of one message before it is dead-lettered; the recovery job still
#: re-queues its event later, since the event stays pending.
MAX_RETRIES = 20
#: Backoff between retries, in milliseconds.
MIN_BACKOFF_MS = 50
MAX_BACKOFF_MS = 10_000


def should_retry(retries: int, ex: Exception) -> bool:
    """Retry passing troubles and unexpected errors, never a permanent domain error."""
    permanent = isinstance(ex, FlyteError) and not isinstance(ex, Retryable)
    return retries < MAX_RETRIES and not permanent


def declare_event_actor(
    broker: dramatiq.Broker, context: WorkerContext
) -> dramatiq.Actor[[str], None]:
    """Declare ``handle_event`` on ``broker``, running ``context``'s engine."""

    def handle_event(event_id: str) -> None:
        """Match the event against flows and create its actions."""
        context.engine.process(event_id)

    declare = dramatiq.actor(
        actor_name=HANDLE_EVENT.actor_name,
        queue_name=HANDLE_EVENT.queue_name,
        broker=broker,
        min_backoff=MIN_BACKOFF_MS,
        max_backoff=MAX_BACKOFF_MS,
        retry_when=should_retry,
    )
    return declare(handle_event)
