"""DatastoreStore: key/value items in the ``datastore`` collection (``_id`` = key).

Secret items are encrypted here, with the SecretBox the process was given, and
read back without their value. Server code that needs a secret's plaintext (the
``secret()`` template function, webhook signature checks) calls
``DatastoreStore.reveal_secret(key) -> str``, which raises DatastoreItemNotFound
when the key is missing, expired or not a secret.

An item with a TTL carries ``expiresAtMs`` (epoch milliseconds: what every read
filters on, and what the purge job deletes by on nx-27017) and, on real MongoDB,
``expireAt``, a BSON date its TTL index (``expireAfterSeconds=0``) expires by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.datastore import DatastoreItem
from flyte.errors import DatastoreItemNotFound
from flyte.errors import InvalidDatastoreItem
from flyte.errors import Problem
from flyte.masking import MASK
from flyte.secrets import KEY_SETTING
from flyte.secrets import SecretBox
from flyte.secrets import SecretsUnavailable
from flyte.store.mongo import is_nx_27017
from flyte.store.mongo import translate_errors
from flyte.store.retention import DATASTORE_EXPIRE_AT

#: What the list shows: everything but the value (top-level fields only).
_LIST_PROJECTION = {
    "_id": 1,
    "contentType": 1,
    "description": 1,
    "secret": 1,
    "expiresAtMs": 1,
}


def _now_ms() -> int:
    return to_millis(utcnow())


class DatastoreStore:
    """Store, read, list and delete datastore items; encrypt the secret ones."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        secrets: SecretBox | None = None,
        *,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._db = db
        self._items = db["datastore"]
        self._secrets = secrets
        self._clock_ms = clock_ms
        self._on_nx: bool | None = None

    @property
    def has_secrets_key(self) -> bool:
        """True when secrets can be stored (a key is configured)."""
        return self._secrets is not None

    @translate_errors
    def put(self, item: DatastoreItem) -> bool:
        """Insert or wholly replace the item with this key; True if it was new.

        A secret item without a configured key is refused (400, naming the setting).
        """
        fields = item.to_document()
        del fields["_id"]
        if item.secret:
            fields["value"] = self._box().encrypt(item.value)
        # What a replaced item had and this one has not goes.
        unset = {} if item.secret else {"secret": ""}
        if item.expires_at_ms is None:
            unset |= {"expiresAtMs": "", DATASTORE_EXPIRE_AT: ""}
        elif not self._is_nx():
            # A datetime in $set is a string on nx-27017, so it gets none there.
            fields[DATASTORE_EXPIRE_AT] = from_millis(item.expires_at_ms)
        else:
            unset |= {DATASTORE_EXPIRE_AT: ""}
        # $set of every field, not replace_one: nx-27017 fails to replace an
        # existing document with a bytes value ("bytes is not JSON serializable").
        update: dict[str, Any] = {"$set": fields}
        if unset:
            update["$unset"] = unset
        result = self._items.update_one({"_id": item.key}, update, upsert=True)
        return result.upserted_id is not None

    @translate_errors
    def get(self, key: str) -> DatastoreItem:
        """The item (a secret without its value), or raise DatastoreItemNotFound."""
        item = self._find(key)
        if item.secret:
            return replace(item, value=b"")
        return item

    @translate_errors
    def reveal_secret(self, key: str) -> str:
        """A secret item's plaintext (UTF-8); DatastoreItemNotFound if no such secret.

        The value is remembered by flyte.masking.MASK, which masks it in audit
        copies and logs from then on.
        """
        item = self._find(key)
        if not item.secret:
            raise DatastoreItemNotFound(key)
        plaintext = self._reading_box().decrypt(item.value).decode("utf-8", "replace")
        MASK.remember(plaintext)
        return plaintext

    @translate_errors
    def list_items(self) -> list[DatastoreItem]:
        """Every live item, sorted by key, without its value."""
        now = self._clock_ms()
        cursor = self._items.find({}, _LIST_PROJECTION).sort("_id", ASCENDING)
        items = (DatastoreItem.from_document(doc) for doc in cursor)
        return [item for item in items if not item.is_expired(now)]

    @translate_errors
    def delete(self, key: str) -> None:
        """Remove the item, or raise DatastoreItemNotFound."""
        if self._items.delete_one({"_id": key}).deleted_count == 0:
            raise DatastoreItemNotFound(key)

    @translate_errors
    def rekey(self) -> int:
        """Re-encrypt every secret under the current key; return how many.

        Tokens made under an old key (FLYTE_SECRETS_OLD_KEYS) are decrypted with
        it; once this has run, the old key can be dropped.
        """
        box = self._box()
        count = 0
        for doc in self._items.find({"secret": True}, {"_id": 1, "value": 1}):
            token = box.rotate(bytes(doc["value"]))
            self._items.update_one({"_id": doc["_id"]}, {"$set": {"value": token}})
            count += 1
        return count

    def _find(self, key: str) -> DatastoreItem:
        doc = self._items.find_one({"_id": key})
        if doc is None:
            raise DatastoreItemNotFound(key)
        item = DatastoreItem.from_document(doc)
        # Until the purge (or MongoDB's TTL monitor) deletes it, an expired item
        # is still stored: a read never returns it.
        if item.is_expired(self._clock_ms()):
            raise DatastoreItemNotFound(key)
        return item

    def _box(self) -> SecretBox:
        if self._secrets is None:
            problem = f"no key for secrets: set {KEY_SETTING} on the server"
            raise InvalidDatastoreItem([Problem("secret", problem)])
        return self._secrets

    def _reading_box(self) -> SecretBox:
        if self._secrets is None:
            raise SecretsUnavailable(f"no key for secrets: set {KEY_SETTING}")
        return self._secrets

    def _is_nx(self) -> bool:
        if self._on_nx is None:
            self._on_nx = is_nx_27017(self._db)
        return self._on_nx
