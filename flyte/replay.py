"""Replays: an operator sends a stored event again, as a new event marking it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from flyte.clock import new_id
from flyte.clock import utcnow
from flyte.errors import FlyteError
from flyte.event import Event
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.queue import WorkQueue
from flyte.store import Stores


class Replays:
    """Store and queue copies of stored events, for the API and the console alike.

    Like a posted event, the copy is stored before it is queued and removed again
    if queuing fails, so an answered replay is never lost.
    """

    def __init__(
        self,
        stores: Stores,
        queue: WorkQueue,
        *,
        clock: Callable[[], datetime] = utcnow,
        make_id: Callable[[], str] = new_id,
        metrics: Metrics | None = None,
    ) -> None:
        self._stores = stores
        self._queue = queue
        self._clock = clock
        self._make_id = make_id
        self._metrics = metrics or get_metrics()

    def replay(self, event_id: str) -> Event:
        """Send again as a new event with the same pack, name and payload.

        It is created and received now; the pack's ``lastSeen`` is not touched,
        since an operator asked, not the pack. Raises EventNotFound if the
        event is not stored.
        """
        with self._metrics.counting_event("replay"):
            return self._replay(event_id)

    def _replay(self, event_id: str) -> Event:
        original = self._stores.events.get(event_id).event
        now = self._clock()
        replay = dataclasses.replace(
            original, id=self._make_id(), created_at=now, received_at=now
        )
        self._stores.events.add(replay, now, replay_of=original.id)
        try:
            self._queue.send_event(replay.id)
        except FlyteError:
            self._stores.events.delete(replay.id)
            raise
        return replay
