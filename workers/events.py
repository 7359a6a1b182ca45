"""The actor that runs the engine on each stored event."""

from __future__ import annotations

import dramatiq

from flyte.errors import FlyteError
from flyte.errors import Retryable
from workers.context import get_engine

#: Retries of one message before it is dead-lettered; the recovery job still
#: re-queues its event later, since the event stays pending.
MAX_RETRIES = 20


def should_retry(retries: int, ex: Exception) -> bool:
    """Retry passing troubles and unexpected errors, never a permanent domain error."""
    permanent = isinstance(ex, FlyteError) and not isinstance(ex, Retryable)
    return retries < MAX_RETRIES and not permanent


@dramatiq.actor(
    queue_name="events", min_backoff=50, max_backoff=10_000, retry_when=should_retry
)
def handle_event(event_id: str) -> None:
    """Match the event against flows and create its actions."""
    get_engine().process(event_id)
