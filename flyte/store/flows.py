"""FlowStore: latest versions (``flow``) and every version (``flowHistory``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.clock import new_id
from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.errors import FlowNotFound
from flyte.flow import Flow
from flyte.flow import trigger_key
from flyte.flow_stamp import FlowStamp
from flyte.store.mongo import translate_errors
from flyte.store.trigger_cache import TriggerCache


class FlowStore:
    """Add versions, read the latest or a given version, list and delete flows.

    With a ``stamp``, ``find_by_trigger`` answers from a cache that every write
    here invalidates in every process (see flyte/store/trigger_cache.py), and
    those writes raise Unavailable when the stamp cannot be renewed. Without
    one, every lookup reads MongoDB.
    """

    def __init__(
        self,
        db: Database[dict[str, Any]],
        *,
        clock: Callable[[], datetime] = utcnow,
        make_id: Callable[[], str] = new_id,
        stamp: FlowStamp | None = None,
    ) -> None:
        self._latest = db["flow"]
        self._history = db["flowHistory"]
        # One document per (trigger, flow): nx-27017 cannot index an array field.
        self._triggers = db["flowTrigger"]
        self._clock = clock
        self._make_id = make_id
        self._cache = TriggerCache(stamp) if stamp is not None else None

    def _changing(self) -> AbstractContextManager[None]:
        """Around a write that changes which flows match: invalidate every cache."""
        return self._cache.changing() if self._cache is not None else nullcontext()

    @translate_errors
    def add(self, flow: Flow) -> Flow:
        """Store ``flow`` as a new latest version; return it with its uuid.

        Unavailable from renewing the flow stamp may come after the version was
        stored: adding it again is safe.
        """
        with self._changing():
            return self._add(flow)

    def _add(self, flow: Flow) -> Flow:
        # A paused flow stays paused when a new version is applied (a CI job
        # re-applying its flows must not resume them).
        enabled = self._is_enabled(flow.name)
        versioned = replace(flow, uuid=self._make_id(), enabled=enabled)
        document = _document(versioned, to_millis(self._clock()))
        # History first: a version is never the latest without being in the history.
        self._history.insert_one({**document, "_id": versioned.uuid})
        self._latest.replace_one(
            {"_id": flow.name},
            {**document, "_id": flow.name, "disabled": not enabled},
            upsert=True,
        )
        self._index_triggers(versioned, document)
        return versioned

    @translate_errors
    def set_enabled(self, name: str, enabled: bool) -> Flow:
        """Resume (True) or pause (False) the flow; return its latest version.

        Unavailable from renewing the flow stamp may come after the state was
        changed: setting it again is safe.
        """
        state = {"$set": {"disabled": not enabled}}
        with self._changing():
            if self._latest.update_one({"_id": name}, state).matched_count == 0:
                raise FlowNotFound(name)
            # The engine matches events through the trigger index: it must agree.
            self._triggers.update_many({"flow": name}, state)
        return self.get(name)

    def _is_enabled(self, name: str) -> bool:
        doc = self._latest.find_one({"_id": name}, {"disabled": 1})
        return doc is None or not doc.get("disabled", False)

    @translate_errors
    def get(self, name: str) -> Flow:
        """The latest version of the flow, or raise FlowNotFound."""
        doc = self._latest.find_one({"_id": name})
        if doc is None:
            raise FlowNotFound(name)
        return _flow(doc)

    @translate_errors
    def get_version(self, uuid: str) -> Flow:
        """One version by uuid, even of a deleted flow (running correlations use it)."""
        doc = self._history.find_one({"_id": uuid})
        if doc is None:
            raise FlowNotFound(uuid)
        return _flow(doc)

    @translate_errors
    def list_flows(self) -> list[Flow]:
        """Every flow's latest version, sorted by name, without steps."""
        projection = {"name": 1, "description": 1, "uuid": 1, "disabled": 1}
        cursor = self._latest.find({}, projection)
        return [_flow(doc) for doc in cursor.sort("name", ASCENDING)]

    @translate_errors
    def find_by_trigger(self, pack_name: str, event_name: str) -> list[Flow]:
        """Latest flows with a trigger step on this (pack, event), sorted by name.

        From the cache when the store has a flow stamp and it is unchanged;
        else by one indexed lookup. A list of the caller's own.
        """
        key = trigger_key(pack_name, event_name)
        if self._cache is None:
            return self._load_triggered(key)
        return self._cache.flows(key, lambda: self._load_triggered(key))

    def _load_triggered(self, key: str) -> list[Flow]:
        docs = self._triggers.find({"key": key}, {"version": 1, "disabled": 1})
        flows = (
            _flow({**doc["version"], "disabled": doc.get("disabled", False)})
            for doc in docs
        )
        return sorted(flows, key=lambda f: f.name)

    @translate_errors
    def delete(self, name: str) -> None:
        """Remove the flow; its versions stay so running correlations can finish.

        Unavailable from renewing the flow stamp may come after the flow was
        removed: deleting it again then answers FlowNotFound.
        """
        with self._changing():
            if self._latest.delete_one({"_id": name}).deleted_count == 0:
                raise FlowNotFound(name)
            self._triggers.delete_many({"flow": name})

    def _index_triggers(self, flow: Flow, document: dict[str, Any]) -> None:
        """Index the latest version under each of its trigger keys, and only those.

        Each index entry carries a copy of the version, so matching an event
        costs one indexed query.
        """
        keys = flow.trigger_keys()
        for key in keys:
            entry_id = f"{key}#{flow.name}"
            self._triggers.replace_one(
                {"_id": entry_id},
                {
                    "_id": entry_id,
                    "key": key,
                    "flow": flow.name,
                    "version": document,
                    "disabled": not flow.enabled,
                },
                upsert=True,
            )
        self._triggers.delete_many({"flow": flow.name, "key": {"$nin": keys}})


def _document(flow: Flow, created_ms: int) -> dict[str, Any]:
    return {
        **flow.to_dict(),
        "uuid": flow.uuid,
        "createdAt": created_ms,
    }


def _flow(doc: dict[str, Any]) -> Flow:
    flow = Flow.from_dict(doc, uuid=doc.get("uuid", ""))
    # History documents carry no state: a version read by uuid counts as enabled.
    return replace(flow, enabled=not doc.get("disabled", False))
