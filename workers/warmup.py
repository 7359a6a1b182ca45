"""Warm each worker process at boot, so the first event after a start is fast.

The first event otherwise pays for connecting to MongoDB, creating the indexes,
the first queries, parsing the flows and compiling their templates: 100 to 300 ms
on a busy machine, while upstream's acceptance test takes the action about 100 ms
after the event's 202.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import dramatiq

logger = logging.getLogger(__name__)


class Warmable(Protocol):
    """What can be warmed: a worker context whose ``warm_up`` returns the flows."""

    def warm_up(self) -> int:
        """Connect and run the first event's code paths; return the flows seen."""
        ...


class WarmUp(dramatiq.Middleware):
    """Warms ``context`` in the background once the worker process has booted.

    In the background, so a MongoDB that is down or slow never holds up the
    worker: an event that arrives meanwhile waits for the same connection.
    """

    def __init__(self, context: Warmable) -> None:
        self._context = context

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        """Start the warm-up thread (Dramatiq calls this in each worker process)."""
        thread = threading.Thread(
            target=warm_up, args=(self._context,), name="flyte-warm-up", daemon=True
        )
        thread.start()


def warm_up(context: Warmable) -> bool:
    """Warm ``context`` and log how long it took; False (and a WARNING) on failure."""
    started = time.perf_counter()
    try:
        flows = context.warm_up()
    except Exception as ex:  # noqa: BLE001 - only a head start: the first event retries
        logger.warning(
            "worker warm-up failed, the first event will connect instead: %s", ex
        )
        return False
    logger.info(
        "worker warmed up in %.0f ms (%d flows)",
        (time.perf_counter() - started) * 1000,
        flows,
    )
    return True
