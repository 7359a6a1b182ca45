"""Retention: TTL indexes for real MongoDB, and the purge nx-27017 needs besides.

Every document that expires carries ``storedAt``, a BSON date written only with
the whole document (nx-27017 turns a ``$set`` date into a string). Real MongoDB
expires documents through the TTL indexes; nx-27017 expires them only lazily, so
the scheduler also runs ``purge_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.clock import to_millis
from flyte.config import DEFAULT_ACTION_TTL_SECONDS
from flyte.config import DEFAULT_AUDIT_TTL_SECONDS
from flyte.config import DEFAULT_EVENT_TTL_SECONDS
from flyte.config import DEFAULT_IDEMPOTENCY_WINDOW_SECONDS
from flyte.config import Settings
from flyte.store.mongo import is_nx_27017
from flyte.store.mongo import translate_errors

#: The field every expiring document carries: when it was first stored.
STORED_AT = "storedAt"
#: A datastore item's expiry: epoch ms (read filter, purge) and a BSON date
#: (real MongoDB's TTL index; see flyte/store/datastore.py).
DATASTORE_EXPIRES_AT_MS = "expiresAtMs"
DATASTORE_EXPIRE_AT = "expireAt"


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept."""

    actions: timedelta = timedelta(seconds=DEFAULT_ACTION_TTL_SECONDS)
    audit: timedelta = timedelta(seconds=DEFAULT_AUDIT_TTL_SECONDS)
    events: timedelta = timedelta(seconds=DEFAULT_EVENT_TTL_SECONDS)
    idempotency_keys: timedelta = timedelta(seconds=DEFAULT_IDEMPOTENCY_WINDOW_SECONDS)

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """The configured retention."""
        return cls(
            actions=timedelta(seconds=settings.action_ttl_seconds),
            audit=timedelta(seconds=settings.audit_ttl_seconds),
            events=timedelta(seconds=settings.event_ttl_seconds),
            idempotency_keys=timedelta(seconds=settings.idempotency_window_seconds),
        )

    def by_collection(self) -> dict[str, timedelta]:
        """Each expiring collection and how long its documents live."""
        return {
            "action": self.actions,
            "audit": self.audit,
            "event": self.events,
            "correlationEvent": self.events,
            "idempotencyKey": self.idempotency_keys,
        }


def ensure_ttl_indexes(db: Database[dict[str, Any]], retention: Retention) -> None:
    """Declare a TTL index per collection; a changed TTL replaces the index.

    Not on nx-27017: its lazy TTL makes every query on the collection scan it
    for expired documents (60 ms a read at 50,000 documents), so there the purge
    job alone expires data.
    """
    wanted = not is_nx_27017(db)
    for collection, ttl in retention.by_collection().items():
        seconds = int(ttl.total_seconds())
        # Found by key, not name: nx-27017 names indexes itself.
        for index in db[collection].list_indexes():
            ttl_now = index.get("expireAfterSeconds")
            stale = ttl_now is not None and (not wanted or ttl_now != seconds)
            if list(index["key"]) == [STORED_AT] and stale:
                db[collection].drop_index(index["name"])
        if not wanted:
            continue
        db[collection].create_index(
            [(STORED_AT, ASCENDING)],
            name=f"{collection}_ttl",
            expireAfterSeconds=seconds,
        )
    if wanted:
        # Each item expires at its own expireAt (a ``ttl`` given when stored).
        db["datastore"].create_index(
            [(DATASTORE_EXPIRE_AT, ASCENDING)],
            name="datastore_ttl",
            expireAfterSeconds=0,
        )


@translate_errors
def purge_expired(
    db: Database[dict[str, Any]], retention: Retention, now: datetime
) -> dict[str, int]:
    """Delete what has outlived its retention; return how many per collection."""
    purged = {
        collection: db[collection]
        .delete_many({STORED_AT: {"$lt": now - ttl}})
        .deleted_count
        for collection, ttl in retention.by_collection().items()
    }
    # Datastore items with a TTL carry their own expiry (epoch milliseconds).
    expired_items = {DATASTORE_EXPIRES_AT_MS: {"$lte": to_millis(now)}}
    purged["datastore"] = db["datastore"].delete_many(expired_items).deleted_count
    return purged
