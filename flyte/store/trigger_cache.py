"""TriggerCache: the flows each (pack, event) matches, kept while the flow stamp holds.

Why it is safe: an entry is served only under the stamp that was read BEFORE the
MongoDB read that filled it, and every flow write renews the stamp before and
after its own writes. A write that completed before an event's stamp read has
renewed the stamp past every entry that could miss it, so that event reloads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flyte.errors import Unavailable
from flyte.flow import Flow
from flyte.flow_stamp import FlowStamp

logger = logging.getLogger(__name__)

#: A safety net: no entry is served older than this, even under an unchanged
#: stamp (a Redis restarted from its AOF may bring an old stamp back).
MAX_AGE_SECONDS = 60.0
#: After a failed stamp read, events read MongoDB uncached for this long before
#: Redis is tried again: a hung Redis then costs one timeout a second, not one
#: an event.
RETRY_STAMP_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class _Entry:
    flows: tuple[Flow, ...]
    loaded_at: float


class TriggerCache:
    """Flows by trigger key, valid while the stamp they were read under is current.

    Thread-safe: a worker process's threads share one.
    """

    def __init__(
        self,
        stamp: FlowStamp,
        *,
        max_age: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stamp = stamp
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stamp_seen: str | None = None
        self._entries: dict[str, _Entry] = {}
        self._outage_until: float | None = None

    def flows(self, key: str, load: Callable[[], list[Flow]]) -> list[Flow]:
        """The flows under ``key``: cached while the stamp holds, else ``load()``."""
        # The stamp first: a write that renews it after this read has not been
        # missed, as the next event sees the new stamp.
        stamp = self._read_stamp()
        if stamp is None:
            return load()
        cached = self._get(stamp, key)
        if cached is not None:
            return cached
        flows = load()
        self._put(stamp, key, flows)
        return flows

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Around a write that changes what matches: renew the stamp before and after.

        Before: a reader caching meanwhile does so under a stamp about to go.
        After: covers a reader between the first renewal and the write. Raises
        Unavailable when a renewal fails; after the write, the write happened.
        """
        self._stamp.renew()
        try:
            yield
        finally:
            # Also after a failed write: part of it may have happened.
            self._stamp.renew()

    def _get(self, stamp: str, key: str) -> list[Flow] | None:
        with self._lock:
            if stamp != self._stamp_seen:
                # Entries of another stamp are never served again: drop them all.
                self._entries.clear()
                self._stamp_seen = stamp
                return None
            entry = self._entries.get(key)
        if entry is None or self._monotonic() - entry.loaded_at >= self._max_age:
            return None
        return list(entry.flows)

    def _put(self, stamp: str, key: str, flows: list[Flow]) -> None:
        with self._lock:
            # Another thread saw another stamp meanwhile: ours may be the older,
            # and this read may be stale under theirs. Leave it uncached.
            if stamp == self._stamp_seen:
                self._entries[key] = _Entry(tuple(flows), self._monotonic())

    def _read_stamp(self) -> str | None:
        """The current stamp, or None (read MongoDB uncached) while Redis is away."""
        with self._lock:
            if self._outage_until is not None:
                if self._monotonic() < self._outage_until:
                    return None
        try:
            stamp = self._stamp.current()
        except Unavailable as ex:
            self._failed(ex)
            return None
        self._answered()
        return stamp

    def _failed(self, ex: Unavailable) -> None:
        """Note a failed stamp read: one WARNING an outage, not one an event."""
        with self._lock:
            first = self._outage_until is None
            self._outage_until = self._monotonic() + RETRY_STAMP_AFTER_SECONDS
        if first:
            logger.warning(
                "cannot read the flow stamp (%s): events are matched from MongoDB"
                " uncached until Redis answers",
                ex,
            )

    def _answered(self) -> None:
        """Note a stamp read: one INFO line if it ends an outage."""
        with self._lock:
            ended = self._outage_until is not None
            self._outage_until = None
        if ended:
            logger.info("the flow stamp answers again: events are matched from cache")
