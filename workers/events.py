"""The actor that runs the engine on each stored event, and its retry policy."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import dramatiq

from flyte.engine import FlowEngine
from flyte.errors import FlyteError
from flyte.errors import ResultNotReady
from flyte.errors import Retryable
from flyte.store.monitoring import EVALUATE
from flyte.store.monitoring import counting_stage
from workers.context import WorkerContext
from workers.messages import HANDLE_EVENT

#: Retries of one message before it is dead-lettered; the recovery job still
#: re-queues its event later, since the event stays pending.
MAX_RETRIES = 20
#: Backoff between retries, in milliseconds.
MIN_BACKOFF_MS = 50
MAX_BACKOFF_MS = 10_000
#: Pauses, in seconds, while a result event waits for the API to finish its
#: action (it does so right after storing the event, so a few ms nearly always
#: suffice); about 1.6 s in all, then the recovery job takes over.
RESULT_WAITS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)

logger = logging.getLogger(__name__)


def should_retry(retries: int, ex: Exception) -> bool:
    """Retry passing troubles and unexpected errors, never a permanent domain error."""
    permanent = isinstance(ex, FlyteError) and not isinstance(ex, Retryable)
    return retries < MAX_RETRIES and not permanent


def process_when_ready(
    engine: FlowEngine,
    event_id: str,
    waits: tuple[float, ...] = RESULT_WAITS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Process the event; a result that overtook its action's finish waits a little.

    That race is expected under load, so it is no error: each wait is logged at
    DEBUG, and one WARNING names the event and action if the wait runs out. The
    event then stays pending and the recovery job queues it again later.
    """
    for wait in (*waits, None):
        try:
            engine.process(event_id)
            return
        except ResultNotReady as ex:
            if wait is None:
                logger.warning(
                    "%s after %.1f s; the recovery job will queue it again",
                    ex,
                    sum(waits),
                )
                return
            logger.debug("%s; trying again in %d ms", ex, wait * 1000)
            sleep(wait)


def declare_event_actor(
    broker: dramatiq.Broker, context: WorkerContext
) -> dramatiq.Actor[[str], None]:
    """Declare ``handle_event`` on ``broker``, running ``context``'s engine."""

    def handle_event(event_id: str) -> None:
        """Match the event against flows and create its actions."""
        with counting_stage(EVALUATE):
            process_when_ready(context.engine, event_id)

    declare = dramatiq.actor(
        actor_name=HANDLE_EVENT.actor_name,
        queue_name=HANDLE_EVENT.queue_name,
        broker=broker,
        min_backoff=MIN_BACKOFF_MS,
        max_backoff=MAX_BACKOFF_MS,
        retry_when=should_retry,
    )
    return declare(handle_event)
