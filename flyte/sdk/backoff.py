"""The poll loop's backoff while the API fails, logged once per outage."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

#: The longest wait between polls while the API fails, in seconds.
POLL_BACKOFF_MAX_SECONDS = 30.0
#: 2**16 polling intervals exceed any bound: doubling further only grows floats.
_MAX_DOUBLINGS = 16


class PollBackoff:
    """Failed polls in a row: how long to wait next, and the outage's two log lines."""

    def __init__(self, pack_name: str) -> None:
        self.pack_name = pack_name
        self.failed_polls = 0
        self._outage_started = 0.0

    def delay(self, polling_interval: float) -> float:
        """The polling interval, doubled for each failed poll in a row, bounded."""
        if not self.failed_polls:
            return polling_interval
        doublings = min(self.failed_polls, _MAX_DOUBLINGS)
        delay: float = polling_interval * 2.0**doublings
        return min(delay, max(POLL_BACKOFF_MAX_SECONDS, polling_interval))

    def failed(self, ex: BaseException) -> None:
        """Count a failed poll; only the first of an outage is logged as a warning."""
        self.failed_polls += 1
        if self.failed_polls > 1:
            logger.debug("Pack %s could not poll again: %s", self.pack_name, ex)
            return
        self._outage_started = time.monotonic()
        logger.warning(
            "Pack %s could not poll: %s; retrying with backoff up to %.0f s, "
            "quietly until the API answers",
            self.pack_name,
            ex,
            POLL_BACKOFF_MAX_SECONDS,
        )

    def answered(self) -> None:
        """The API answered a poll: end the outage, if there was one, in one line."""
        if not self.failed_polls:
            return
        logger.info(
            "Pack %s polls again: the API answered after %.1f s and %d failed poll(s)",
            self.pack_name,
            time.monotonic() - self._outage_started,
            self.failed_polls,
        )
        self.failed_polls = 0
