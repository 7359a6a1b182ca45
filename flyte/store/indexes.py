"""Every index the stores rely on, created at start-up by the API and the workers."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.store.retention import Retention
from flyte.store.retention import ensure_ttl_indexes

#: The console's event list: newest first, filtered by status, pack or name.
CONSOLE_EVENT_INDEXES = ["event.receivedAt", "status", "event.pack.name", "event.name"]
#: Single-field indexes only: nx-27017 does not use compound ones (see the store
#: rules in docs/development.md).
INDEXES: dict[str, list[str]] = {
    "pack": ["name", "lastSeen"],
    "flow": ["name"],
    "flowTrigger": ["key", "flow"],
    "flowHistory": ["name"],
    # state.value: the console's counts by state and its latest failures.
    "action": [
        "correlationId",
        "queuePack",
        "queueCommand",
        "leaseExpiresAt",
        "state.value",
    ],
    # correlationId: the one correlation an event touched (flyte/store/events.py).
    "event": ["pendingSince", "replayOf", "correlationId", *CONSOLE_EVENT_INDEXES],
    # The audit's filters, and the time executions are ordered by.
    "audit": ["correlationId", "flowName", "stepId", "name", "packName", "state.time"],
    "correlationEvent": ["correlationId"],
}


def ensure_indexes(
    db: Database[dict[str, Any]], retention: Retention | None = None
) -> None:
    """Create every index Flyte needs, TTL ones included; safe at each start-up."""
    for collection, fields in INDEXES.items():
        for name in fields:
            db[collection].create_index(
                [(name, ASCENDING)], name=f"{collection}_{name}"
            )
    ensure_ttl_indexes(db, retention or Retention())
