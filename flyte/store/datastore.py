"""DatastoreStore: key/value items in the ``datastore`` collection (``_id`` = key)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.datastore import DatastoreItem
from flyte.errors import DatastoreItemNotFound
from flyte.store.mongo import translate_errors

#: What the list shows: everything but the value (top-level fields only).
_LIST_PROJECTION = {"_id": 1, "contentType": 1, "description": 1}


class DatastoreStore:
    """Store, read, list and delete datastore items."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._items = db["datastore"]

    @translate_errors
    def put(self, item: DatastoreItem) -> bool:
        """Insert or wholly replace the item with this key; True if it was new."""
        fields = item.to_document()
        del fields["_id"]
        # $set of every field, not replace_one: nx-27017 fails to replace an
        # existing document with a bytes value ("bytes is not JSON serializable").
        result = self._items.update_one(
            {"_id": item.key}, {"$set": fields}, upsert=True
        )
        return result.upserted_id is not None

    @translate_errors
    def get(self, key: str) -> DatastoreItem:
        """Return the item with its value, or raise DatastoreItemNotFound."""
        doc = self._items.find_one({"_id": key})
        if doc is None:
            raise DatastoreItemNotFound(key)
        return DatastoreItem.from_document(doc)

    @translate_errors
    def list_items(self) -> list[DatastoreItem]:
        """Every item, sorted by key, without its value."""
        cursor = self._items.find({}, _LIST_PROJECTION).sort("_id", ASCENDING)
        return [DatastoreItem.from_document(doc) for doc in cursor]

    @translate_errors
    def delete(self, key: str) -> None:
        """Remove the item, or raise DatastoreItemNotFound."""
        if self._items.delete_one({"_id": key}).deleted_count == 0:
            raise DatastoreItemNotFound(key)
