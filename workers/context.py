"""The engine and housekeeper the actors of one worker process run on.

The actors receive a ``WorkerContext`` when they are declared. A worker process
gets a ``ProcessContext``, which connects on first use: MongoClient is not
fork-safe, and nothing may connect at import. Tests declare the actors with a
context of their own, wired to their servers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from flyte.config import Settings
from flyte.engine import FlowEngine
from flyte.flow_stamp import RedisFlowStamp
from flyte.flow_stamp import stamp_client
from flyte.housekeeping import Housekeeper
from flyte.queue import WorkQueue
from flyte.runtime import Leases
from flyte.secrets import box_from_settings
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from flyte.store.retention import Retention
from flyte.templating import build_engine
from flyte.templating import template_functions


class WorkerContext(Protocol):
    """What the actors need: the flow engine and the housekeeper."""

    @property
    def engine(self) -> FlowEngine:
        """The engine that processes events."""
        ...

    @property
    def housekeeper(self) -> Housekeeper:
        """The periodic repairs."""
        ...


@dataclass(frozen=True)
class _Built:
    engine: FlowEngine
    housekeeper: Housekeeper


class ProcessContext:
    """A worker process's engine and housekeeper, connected on first use."""

    def __init__(
        self,
        settings: Settings,
        queue: WorkQueue,
        queued_events: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._queued_events = queued_events
        self._lock = threading.Lock()
        self._built: _Built | None = None

    @property
    def engine(self) -> FlowEngine:
        """The engine, built on first use."""
        return self._build().engine

    @property
    def housekeeper(self) -> Housekeeper:
        """The housekeeper, built on first use."""
        return self._build().housekeeper

    def warm_up(self) -> int:
        """Connect now, and run the first event's code paths; return the flows."""
        return self.engine.warm_up()

    def _build(self) -> _Built:
        # Worker threads reach this together at start: connect only once.
        with self._lock:
            if self._built is None:
                self._built = _connect(self._settings, self._queue, self._queued_events)
            return self._built


def _connect(
    settings: Settings, queue: WorkQueue, queued_events: Callable[[], int | None]
) -> _Built:
    db = connect(settings)
    retention = Retention.from_settings(settings)
    ensure_indexes(db, retention)
    # Redis is there whatever the broker (the schedulers lead through it).
    stamp = RedisFlowStamp(stamp_client(settings.redis_url), db.name)
    stores = open_stores(db, box_from_settings(settings), flow_stamp=stamp)
    engine = FlowEngine(
        stores,
        build_engine(settings),
        functions=template_functions(stores.datastore),
        orphan_after=timedelta(seconds=settings.orphan_window_seconds),
    )
    housekeeper = Housekeeper(
        stores,
        queue,
        Leases(settings.action_lease_seconds, settings.action_max_attempts),
        timedelta(seconds=settings.event_recovery_seconds),
        retention=retention,
        pack_grace=timedelta(seconds=settings.pack_grace_seconds)
        if settings.should_delete_dead_packs
        else None,
        max_recoveries=settings.event_max_recoveries,
        queued_events=queued_events,
    )
    return _Built(engine, housekeeper)
