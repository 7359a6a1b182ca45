"""EventStore: every accepted event (``event``), its processing status and outcome."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import InsertOne
from pymongo import ReturnDocument
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.errors import EventNotFound
from flyte.event import Event
from flyte.masking import MASK
from flyte.outcome import FlowOutcome
from flyte.store.batching import ReadBatcher
from flyte.store.batching import WriteBatcher
from flyte.store.batching import is_duplicate
from flyte.store.batching import raise_unexpected
from flyte.store.mongo import only_duplicates
from flyte.store.mongo import translate_errors
from flyte.store.retention import STORED_AT

#: Most replays of one event that its page lists.
MAX_REPLAYS_LISTED = 50
#: The field naming the one correlation an event touched (indexed).
CORRELATION_ID = "correlationId"


class EventStatus(StrEnum):
    """Whether the engine has dealt with an event yet."""

    PENDING = "pending"
    PROCESSED = "processed"
    DISCARDED = "discarded"
    FAILED = "failed"


@dataclass(frozen=True)
class EventRecord:
    """A stored event: the event itself, where it is, and what it did per flow."""

    event: Event
    status: EventStatus
    action_id: str | None = None
    outcomes: list[FlowOutcome] = field(default_factory=list)
    reason: str = ""
    #: The event this one replays, when an operator replayed one.
    replay_of: str | None = None


class EventStore:
    """Store events before they are queued, so none is lost; record their outcome."""

    def __init__(
        self, db: Database[dict[str, Any]], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._events = db["event"]
        # Concurrent requests' inserts, and workers' reads and outcomes, go
        # together.
        self._writes = WriteBatcher(self._events)
        self._reads = ReadBatcher(self._events)
        self._clock = clock
        # Which events touched which correlation, for the audit: one scalar
        # document per pair, because nx-27017 cannot index an array field.
        self._correlations = db["correlationEvent"]

    @translate_errors
    def add(
        self,
        event: Event,
        now: datetime,
        action_id: str | None = None,
        *,
        replay_of: str | None = None,
    ) -> bool:
        """Store a pending event; False if one with this id is already stored."""
        doc: dict[str, Any] = {
            "_id": event.id,
            "event": event.to_document(),
            "status": EventStatus.PENDING.value,
            # Set only while pending, so the recovery scan reads only pending events.
            "pendingSince": to_millis(now),
            STORED_AT: now,
        }
        if action_id is not None:
            doc["actionId"] = action_id
        if replay_of is not None:
            doc["replayOf"] = replay_of
        [error] = self._writes.write([InsertOne(doc)])
        if is_duplicate(error):
            return False
        raise_unexpected([error])
        return True

    @translate_errors
    def get(self, event_id: str) -> EventRecord:
        """The stored event, or raise EventNotFound."""
        doc = self._reads.find(event_id)
        if doc is None:
            raise EventNotFound(event_id)
        return _record(doc)

    @translate_errors
    def find_replays(self, event_id: str, limit: int = MAX_REPLAYS_LISTED) -> list[str]:
        """Ids of the events that replay ``event_id`` (up to ``limit``, unordered)."""
        cursor = self._events.find({"replayOf": event_id}, {"_id": 1}).limit(limit)
        return [doc["_id"] for doc in cursor]

    @translate_errors
    def finish(
        self,
        event_id: str,
        status: EventStatus,
        outcomes: Sequence[FlowOutcome],
        reason: str = "",
    ) -> None:
        """Record what the event did (or why it failed); it is no longer pending.

        The correlations it touched are indexed in the same write, or first when
        there are several: if that fails, the event stays pending and is
        processed again.
        """
        fields: dict[str, Any] = {
            "status": status.value,
            # A secret a step revealed never reaches the stored outcome.
            "outcome": MASK.data([o.to_document() for o in outcomes]),
            "reason": MASK.text(reason),
        }
        correlation_ids = list(dict.fromkeys(o.correlation_id for o in outcomes))
        if len(correlation_ids) == 1:
            # Most events touch one correlation: an indexed field of their own
            # saves a round trip per event.
            fields[CORRELATION_ID] = correlation_ids[0]
        else:
            self._link_correlations(event_id, correlation_ids)
        update = {"$set": fields, "$unset": {"pendingSince": ""}}
        raise_unexpected(self._writes.write([UpdateOne({"_id": event_id}, update)]))

    @translate_errors
    def note_recovery(
        self, event_id: str, now: datetime, *, stale_before: datetime | None = None
    ) -> int:
        """Count one more re-queue of a stuck event and restart its wait; return it.

        With ``stale_before``, only an event still pending since before it counts
        (0 otherwise): two recovery jobs that overlap (both found the event stale)
        then re-queue it once, not twice, and do not use up its re-queues.
        """
        query: dict[str, Any] = {"_id": event_id, "status": EventStatus.PENDING.value}
        if stale_before is not None:
            query["pendingSince"] = {"$lt": to_millis(stale_before)}
        doc = self._events.find_one_and_update(
            query,
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

    @translate_errors
    def find_by_correlation(self, correlation_id: str) -> list[EventRecord]:
        """The processed events that touched a correlation, oldest first."""
        return self.find_by_correlations([correlation_id]).get(correlation_id, [])

    @translate_errors
    def find_by_correlations(
        self, correlation_ids: Sequence[str]
    ) -> dict[str, list[EventRecord]]:
        """Per correlation id, the processed events that touched it, oldest first.

        An event that touched one correlation names it in its own indexed
        field; one that touched several is linked to each in
        ``correlationEvent``. So: two indexed queries per correlation (nx-27017
        answers ``$in`` on a field with a full scan), then one ``_id`` lookup
        for the linked events. Events that expired are left out.
        """
        found: dict[str, dict[str, EventRecord]] = {}
        linked: dict[str, list[str]] = {}
        for cid in correlation_ids:
            found[cid] = {
                doc["_id"]: _record(doc)
                for doc in self._events.find({CORRELATION_ID: cid})
            }
            linked[cid] = [
                doc["eventId"]
                for doc in self._correlations.find(
                    {"correlationId": cid}, {"eventId": 1}
                )
            ]
        wanted = sorted({eid for eids in linked.values() for eid in eids})
        if wanted:
            by_id = {
                doc["_id"]: _record(doc)
                for doc in self._events.find({"_id": {"$in": wanted}})
            }
            for cid, eids in linked.items():
                found[cid].update({eid: by_id[eid] for eid in eids if eid in by_id})
        return {
            cid: sorted(
                records.values(), key=lambda r: (r.event.received_at, r.event.id)
            )
            for cid, records in found.items()
        }

    def _link_correlations(self, event_id: str, correlation_ids: Sequence[str]) -> None:
        links = [
            {
                "_id": f"{cid}#{event_id}",
                "correlationId": cid,
                "eventId": event_id,
                # Expires with the events (retention of ``event``).
                STORED_AT: self._clock(),
            }
            for cid in correlation_ids
        ]
        if not links:
            return
        try:
            self._correlations.insert_many(links, ordered=False)
        except BulkWriteError as ex:
            # Already linked: the event is being processed again.
            if not only_duplicates(ex):
                raise


def _record(doc: dict[str, Any]) -> EventRecord:
    return EventRecord(
        event=Event.from_document(doc["event"]),
        status=EventStatus(doc["status"]),
        action_id=doc.get("actionId"),
        outcomes=[FlowOutcome.from_document(o) for o in doc.get("outcome") or []],
        reason=doc.get("reason", ""),
        replay_of=doc.get("replayOf"),
    )
