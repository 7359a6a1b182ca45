"""AuditStore: the ``audit`` collection, a copy of every action that outlives it.

ActionStore writes the copy on each insert and state change. The copy is the
action's document plus ``revision`` (how many states it has been through), so a
late write of an older state never replaces a newer one, and ``storedAt`` (the
last state change, from which the audit's retention counts, as upstream).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import DESCENDING
from pymongo import InsertOne
from pymongo import ReplaceOne
from pymongo.database import Database

from flyte.action import Action
from flyte.audit_query import AuditQuery
from flyte.masking import MASK
from flyte.store.batching import WriteBatcher
from flyte.store.batching import raise_unexpected
from flyte.store.mongo import translate_errors
from flyte.store.retention import STORED_AT

#: The rendered fields of an action, which may hold a secret (masked in copies).
_RENDERED = {"input": 1, "context": 1}


class AuditStore:
    """Keep the audit copies of actions, and find flow executions among them."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._audit = db["audit"]
        # Concurrent copies (new actions, state changes) go together.
        self._writes = WriteBatcher(self._audit)

    @translate_errors
    def add(self, actions: Sequence[Action]) -> None:
        """Copy new actions; a copy already there (a redelivery) is left alone."""
        if not actions:
            return
        # A duplicate is a copy already there: not an error.
        raise_unexpected(self._writes.write([InsertOne(_document(a)) for a in actions]))

    @translate_errors
    def update(self, action: Action) -> None:
        """Replace the copy with this later state; an older state never wins."""
        doc = _document(action)
        if action.secret:
            # Input and context never change: keep the copy's, masked by the
            # process that rendered them, which knew the secrets (this one may
            # not). Other actions revealed no secret: one round trip is enough.
            kept = self._audit.find_one({"_id": action.id}, _RENDERED)
            if kept is not None:
                doc.update({name: kept[name] for name in _RENDERED if name in kept})
        older = {"_id": action.id, "revision": {"$lt": doc["revision"]}}
        # No older copy: the upsert inserts one (the first write failed), or
        # meets a newer copy as a duplicate key, and leaves it alone.
        replace = ReplaceOne(older, doc, upsert=True)
        raise_unexpected(self._writes.write([replace]))

    @translate_errors
    def find_correlations(self, query: AuditQuery) -> list[str]:
        """Ids of the correlations with a matching action, most recently active first.

        Activity is the latest state change of any matching action; ties go by id,
        so pages never overlap.
        """
        pipeline: list[dict[str, Any]] = [
            {"$match": _match(query)},
            # Grouped by one field: nx-27017 cannot group by a compound key.
            {"$group": {"_id": "$correlationId", "time": {"$max": "$state.time"}}},
            {"$sort": {"time": DESCENDING, "_id": 1}},
            {"$skip": query.start},
            {"$limit": query.limit},
        ]
        return [doc["_id"] for doc in self._audit.aggregate(pipeline)]

    @translate_errors
    def find_by_correlation(self, correlation_id: str) -> list[Action]:
        """Every audited action of one correlation, in no particular order."""
        cursor = self._audit.find({"correlationId": correlation_id})
        return [Action.from_document(doc) for doc in cursor]

    def find_by_correlations(self, ids: Sequence[str]) -> dict[str, list[Action]]:
        """Every audited action of each correlation, by correlation id.

        One indexed query per id: nx-27017 answers ``$in`` with a full scan.
        """
        return {cid: self.find_by_correlation(cid) for cid in ids}


def _match(query: AuditQuery) -> dict[str, Any]:
    fields = {
        "flowName": query.flow_name,
        "stepId": query.step_id,
        "name": query.action_name,
        "packName": query.action_pack_name,
    }
    match: dict[str, Any] = {key: value for key, value in fields.items() if value}
    for key, value in query.action_pack_labels.items():
        match[f"packLabels.{key}"] = value
    return match


def _document(action: Action) -> dict[str, Any]:
    doc = action.to_document()
    return {
        **doc,
        # The pack gets the action's input in full; its audit copy is masked.
        "input": MASK.data(doc["input"]),
        "context": MASK.data(doc["context"]),
        "revision": len(action.states),
        STORED_AT: action.last_change.time,
    }
