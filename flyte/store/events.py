"""EventStore: every accepted event (``event``), its processing status and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from flyte.clock import to_millis
from flyte.errors import EventNotFound
from flyte.event import Event
from flyte.store.mongo import translate_errors


class EventStatus(StrEnum):
    """Whether the engine has dealt with an event yet."""

    PENDING = "pending"
    PROCESSED = "processed"
    DISCARDED = "discarded"
    FAILED = "failed"


@dataclass(frozen=True)
class EventRecord:
    """A stored event: the event itself, where it is, and what it did."""

    event: Event
    status: EventStatus
    action_id: str | None = None
    outcome: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""


class EventStore:
    """Store events before they are queued, so none is lost; record their outcome."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._events = db["event"]

    @translate_errors
    def add(self, event: Event, now: datetime, action_id: str | None = None) -> bool:
        """Store a pending event; False if one with this id is already stored."""
        doc: dict[str, Any] = {
            "_id": event.id,
            "event": event.to_document(),
            "status": EventStatus.PENDING.value,
            # Set only while pending, so the recovery scan reads only pending events.
            "pendingSince": to_millis(now),
        }
        if action_id is not None:
            doc["actionId"] = action_id
        try:
            self._events.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    @translate_errors
    def get(self, event_id: str) -> EventRecord:
        """The stored event, or raise EventNotFound."""
        doc = self._events.find_one({"_id": event_id})
        if doc is None:
            raise EventNotFound(event_id)
        return EventRecord(
            event=Event.from_document(doc["event"]),
            status=EventStatus(doc["status"]),
            action_id=doc.get("actionId"),
            outcome=doc.get("outcome") or [],
            reason=doc.get("reason", ""),
        )

    @translate_errors
    def finish(
        self,
        event_id: str,
        status: EventStatus,
        outcome: list[dict[str, Any]],
        reason: str = "",
    ) -> None:
        """Record what the event did (or why it failed); it is no longer pending."""
        self._events.update_one(
            {"_id": event_id},
            {
                "$set": {"status": status.value, "outcome": outcome, "reason": reason},
                "$unset": {"pendingSince": ""},
            },
        )

    @translate_errors
    def note_recovery(self, event_id: str, now: datetime) -> int:
        """Count one more re-queue of a stuck event and restart its wait; return it."""
        doc = self._events.find_one_and_update(
            {"_id": event_id, "status": EventStatus.PENDING.value},
            {"$inc": {"recoveries": 1}, "$set": {"pendingSince": to_millis(now)}},
            projection={"recoveries": 1},
            return_document=ReturnDocument.AFTER,
        )
        return 0 if doc is None else int(doc["recoveries"])

    @translate_errors
    def find_stale(self, before: datetime, limit: int = 500) -> list[str]:
        """Ids of events pending since before ``before``: their message was lost."""
        cursor = self._events.find(
            {"pendingSince": {"$lt": to_millis(before)}}, {"_id": 1}
        ).limit(limit)
        return [doc["_id"] for doc in cursor]

    @translate_errors
    def delete(self, event_id: str) -> None:
        """Forget an event that was never accepted."""
        self._events.delete_one({"_id": event_id})
