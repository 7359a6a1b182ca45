"""PackStore: registered packs in the ``pack`` collection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo import ReturnDocument
from pymongo.database import Database

from flyte.clock import to_millis
from flyte.errors import PackNotFound
from flyte.pack import Pack
from flyte.store.mongo import translate_errors

#: What the pack list shows (upstream projects away commands and events).
_LIST_PROJECTION = {"_id": 1, "name": 1, "lastSeen": 1, "labels": 1}


class PackStore:
    """Register, look up, refresh and remove packs."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._packs = db["pack"]

    @translate_errors
    def register(self, pack: Pack) -> Pack:
        """Insert or wholly replace the pack with this id (re-registration)."""
        self._packs.replace_one({"_id": pack.id}, pack.to_document(), upsert=True)
        return pack

    @translate_errors
    def get(self, pack_id: str) -> Pack:
        """Return the pack, or raise PackNotFound."""
        doc = self._packs.find_one({"_id": pack_id})
        if doc is None:
            raise PackNotFound(pack_id)
        return Pack.from_document(doc)

    @translate_errors
    def list_packs(self) -> list[Pack]:
        """Every pack, sorted by name, without commands and events."""
        cursor = self._packs.find({}, _LIST_PROJECTION).sort("name", ASCENDING)
        return [Pack.from_document(doc) for doc in cursor]

    @translate_errors
    def touch(self, pack_id: str, now: datetime) -> Pack:
        """Record contact from the pack now; raise PackNotFound if it is unknown."""
        doc = self._packs.find_one_and_update(
            {"_id": pack_id},
            {"$set": {"lastSeen": to_millis(now)}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise PackNotFound(pack_id)
        return Pack.from_document(doc)

    @translate_errors
    def delete(self, pack_id: str) -> None:
        """Remove the pack, or raise PackNotFound."""
        if self._packs.delete_one({"_id": pack_id}).deleted_count == 0:
            raise PackNotFound(pack_id)

    @translate_errors
    def delete_unseen_since(self, cutoff: datetime) -> int:
        """Remove packs not heard from since ``cutoff``; return how many."""
        result = self._packs.delete_many({"lastSeen": {"$lt": to_millis(cutoff)}})
        return result.deleted_count
