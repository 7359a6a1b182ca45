"""Bounded, paged reads for the operator console: what it lists and counts.

Every query here reads a range of one single-field index (see the store rules in
docs/development.md), is limited, and pages by offset up to ``MAX_OFFSET``, so
no console page scans a collection. Counts are ``$match`` + ``$count``, which
nx-27017 answers from its index without reading the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo import DESCENDING
from pymongo.database import Database

from flyte.action import Action
from flyte.action import ActionState
from flyte.audit_query import AuditQuery
from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.datastore import DatastoreItem
from flyte.flow import Flow
from flyte.pack import Pack

# The audit store's own filter, so the console filters as /v1/audit/flows does.
from flyte.store.audit import _match as audit_match
from flyte.store.events import EventRecord
from flyte.store.events import EventStatus

# The event store's own document reader, so both read events alike.
from flyte.store.events import _record as event_record
from flyte.store.mongo import translate_errors
from flyte.store.paging import Page
from flyte.store.paging import bounded_offset
from flyte.store.paging import count
from flyte.store.paging import page_of
from flyte.store.paging import steered

#: Most versions of one flow a flow page lists.
MAX_VERSIONS = 100
#: The time a received event is listed by.
EVENT_TIME = "event.receivedAt"
#: Event fields the event list filters on (indexed in flyte/store/indexes.py).
EVENT_PACK = "event.pack.name"
EVENT_NAME = "event.name"
#: Most executions the execution list pages through (most recently active first);
#: filters reach further back.
MAX_EXECUTION_OFFSET = 500
#: The audit's indexed filter fields (flyte/store/indexes.py).
_AUDIT_INDEXED = frozenset({"flowName", "stepId", "name", "packName"})
#: Audit copies read per execution listed, at most: long executions share a page.
AUDIT_DOCS_PER_EXECUTION = 8
#: What an execution list row needs from an audit copy.
_EXECUTION_PROJECTION = {
    "correlationId": 1,
    "flowName": 1,
    "stepId": 1,
    "name": 1,
    "packName": 1,
    "state": 1,
}
#: What an event list row shows: everything but the outcomes.
_EVENT_LIST_PROJECTION = {"outcome": 0}


@dataclass(frozen=True)
class ExecutionRow:
    """An execution in the list, as its most recent matching action shows it."""

    correlation_id: str
    flow_name: str
    step_id: str
    action_name: str
    pack_name: str
    state: str
    time: datetime


@dataclass(frozen=True)
class EventFilter:
    """Which events the event list shows; empty fields do not filter."""

    pack_name: str = ""
    name: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def equalities(self) -> dict[str, str]:
        """The fields that must equal a value, by indexed field name."""
        fields = {
            EVENT_PACK: self.pack_name,
            EVENT_NAME: self.name,
            "status": self.status,
        }
        return {field: value for field, value in fields.items() if value}

    def window(self) -> dict[str, Any]:
        """The filter on the time received, if any."""
        window: dict[str, int] = {}
        if self.since is not None:
            window["$gte"] = to_millis(self.since)
        if self.until is not None:
            window["$lt"] = to_millis(self.until)
        return {EVENT_TIME: window} if window else {}


class Browse:
    """The console's reads over events, actions, packs, flows and the datastore."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._events = db["event"]
        self._actions = db["action"]
        self._packs = db["pack"]
        self._flows = db["flow"]
        self._history = db["flowHistory"]
        self._datastore = db["datastore"]
        self._audit = db["audit"]

    # Events

    @translate_errors
    def events(self, where: EventFilter, offset: int, limit: int) -> Page[EventRecord]:
        """Events matching ``where``, newest received first."""
        offset = bounded_offset(offset)
        match = self._event_match(where, offset + limit + 1)
        if match is None:
            return Page([], offset, None)
        cursor = (
            self._events.find(match, _EVENT_LIST_PROJECTION)
            .sort(EVENT_TIME, DESCENDING)
            .skip(offset)
            .limit(limit + 1)
        )
        return page_of([event_record(doc) for doc in cursor], offset, limit)

    def _event_match(self, where: EventFilter, depth: int) -> dict[str, Any] | None:
        """The event list's filter, steered (see ``steered``); None: no match."""
        return steered(self._events, where.equalities(), where.window(), depth)

    @translate_errors
    def count_events(self, since: datetime) -> dict[str, int]:
        """Events received since ``since``, by status.

        Processed ones, usually nearly all, are the rest of the total: counted
        by status, nx-27017 would read every processed event ever stored.
        """
        after = {EVENT_TIME: {"$gte": to_millis(since)}}
        counts = {
            status.value: count(self._events, {**after, "status": status.value})
            for status in EventStatus
            if status is not EventStatus.PROCESSED
        }
        total = count(self._events, after)
        counts[EventStatus.PROCESSED.value] = max(0, total - sum(counts.values()))
        return counts

    @translate_errors
    def failed_events(self, limit: int) -> list[EventRecord]:
        """The latest events the engine failed on."""
        cursor = (
            self._events.find({"status": EventStatus.FAILED.value}, {"outcome": 0})
            .sort(EVENT_TIME, DESCENDING)
            .limit(limit)
        )
        return [event_record(doc) for doc in cursor]

    # Actions

    @translate_errors
    def count_actions(self) -> dict[str, int]:
        """Actions stored, by state (SUCCESS, usually most of them, as the rest)."""
        counts = {
            state.value: count(self._actions, {"state.value": state.value})
            for state in ActionState
            if state is not ActionState.SUCCESS
        }
        total = count(self._actions, {})
        counts[ActionState.SUCCESS.value] = max(0, total - sum(counts.values()))
        return counts

    @translate_errors
    def failed_actions(self, limit: int) -> list[Action]:
        """The latest actions that ended FATAL."""
        cursor = (
            self._actions.find({"state.value": ActionState.FATAL.value})
            .sort("state.time", DESCENDING)
            .limit(limit)
        )
        return [Action.from_document(doc) for doc in cursor]

    @translate_errors
    def waiting_actions(self, pack_name: str, limit: int) -> list[Action]:
        """NEW actions for packs of this name, oldest first (the take order)."""
        prefix = f"{len(pack_name)}:{pack_name}"
        cursor = (
            self._actions.find(
                {"queuePack": {"$gte": prefix + "|", "$lt": prefix + "}"}}
            )
            .sort("queuePack", ASCENDING)
            .limit(limit)
        )
        return [Action.from_document(doc) for doc in cursor]

    @translate_errors
    def pending_actions(self, pack_name: str, limit: int) -> list[Action]:
        """PENDING actions of packs of this name, soonest lease expiry first."""
        cursor = (
            self._actions.find({"leaseExpiresAt": {"$gte": 0}, "packName": pack_name})
            .sort("leaseExpiresAt", ASCENDING)
            .limit(limit)
        )
        return [Action.from_document(doc) for doc in cursor]

    # Executions

    @translate_errors
    def executions(self, query: AuditQuery, offset: int) -> Page[ExecutionRow]:
        """Executions with an action matching ``query``, most recently active first.

        Reads the audit copies newest first (one index range, in growing
        batches) and keeps each correlation's first, so every page is read
        from the top and no execution shows twice. The read is bounded, so a
        page may come out short when a few executions hold very many actions.
        """
        offset = max(0, min(offset, MAX_EXECUTION_OFFSET))
        wanted = offset + query.limit + 1
        match = self._audit_match(query, wanted)
        rows: dict[str, ExecutionRow] = {}
        read, batch = 0, 2 * wanted
        while match is not None and len(rows) < wanted:
            docs = list(
                self._audit.find(match, _EXECUTION_PROJECTION)
                .sort("state.time", DESCENDING)
                .skip(read)
                .limit(batch)
            )
            for doc in docs:
                if doc["correlationId"] not in rows:
                    rows[doc["correlationId"]] = _execution_row(doc)
            read += len(docs)
            if len(docs) < batch or read >= wanted * AUDIT_DOCS_PER_EXECUTION:
                break
            batch *= 2
        listed = list(rows.values())[offset:wanted]
        more = (
            len(listed) > query.limit and offset + query.limit <= MAX_EXECUTION_OFFSET
        )
        return Page(
            listed[: query.limit], offset, offset + query.limit if more else None
        )

    def _audit_match(self, query: AuditQuery, depth: int) -> dict[str, Any] | None:
        """The audit's filter for ``query``, steered; None: nothing matches."""
        match = audit_match(query)
        indexed = {k: v for k, v in match.items() if k in _AUDIT_INDEXED}
        rest = {k: v for k, v in match.items() if k not in _AUDIT_INDEXED}
        return steered(self._audit, indexed, rest, depth)

    # Packs, flows and the datastore

    @translate_errors
    def packs(self, offset: int, limit: int) -> Page[Pack]:
        """Packs by name, with labels, commands and events."""
        offset = bounded_offset(offset)
        cursor = (
            self._packs.find({}).sort("name", ASCENDING).skip(offset).limit(limit + 1)
        )
        return page_of([Pack.from_document(doc) for doc in cursor], offset, limit)

    @translate_errors
    def count_packs_seen(self, since: datetime, before: datetime | None = None) -> int:
        """Packs last seen at or after ``since`` (and before ``before``)."""
        window: dict[str, int] = {"$gte": to_millis(since)}
        if before is not None:
            window["$lt"] = to_millis(before)
        return count(self._packs, {"lastSeen": window})

    @translate_errors
    def count_packs(self) -> int:
        """Packs registered."""
        return count(self._packs, {})

    @translate_errors
    def flows(self, offset: int, limit: int) -> Page[Flow]:
        """The flows' latest versions by name, with their steps."""
        offset = bounded_offset(offset)
        cursor = (
            self._flows.find({}).sort("_id", ASCENDING).skip(offset).limit(limit + 1)
        )
        flows = [
            replace(
                Flow.from_dict(doc, uuid=doc.get("uuid", "")),
                enabled=not doc.get("disabled", False),
            )
            for doc in cursor
        ]
        return page_of(flows, offset, limit)

    @translate_errors
    def count_flows(self) -> int:
        """Flows stored (latest versions)."""
        return count(self._flows, {})

    @translate_errors
    def flow_versions(self, name: str) -> list[tuple[str, datetime | None]]:
        """(uuid, stored at) of up to MAX_VERSIONS versions of a flow, newest first."""
        cursor = self._history.find({"name": name}, {"uuid": 1, "createdAt": 1})
        versions = [
            (doc["_id"], doc.get("createdAt")) for doc in cursor.limit(MAX_VERSIONS)
        ]
        versions.sort(key=lambda v: v[1] or 0, reverse=True)
        return [(uuid, _when(ms)) for uuid, ms in versions]

    @translate_errors
    def datastore(self, offset: int, limit: int) -> Page[DatastoreItem]:
        """Datastore items by key, without their values."""
        offset = bounded_offset(offset)
        cursor = (
            self._datastore.find({}, {"value": 0})
            .sort("_id", ASCENDING)
            .skip(offset)
            .limit(limit + 1)
        )
        items = [DatastoreItem.from_document(doc) for doc in cursor]
        return page_of(items, offset, limit)


def _execution_row(doc: dict[str, Any]) -> ExecutionRow:
    return ExecutionRow(
        correlation_id=doc["correlationId"],
        flow_name=doc.get("flowName", ""),
        step_id=doc.get("stepId", ""),
        action_name=doc.get("name", ""),
        pack_name=doc.get("packName", ""),
        state=doc["state"]["value"],
        time=from_millis(doc["state"]["time"]),
    )


def _when(ms: int | None) -> datetime | None:
    return None if ms is None else from_millis(ms)
