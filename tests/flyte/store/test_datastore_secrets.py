"""Contract tests of datastore secrets and TTLs (nx-27017 or real MongoDB)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import json_util
from pymongo.database import Database

from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.datastore import DatastoreItem
from flyte.errors import DatastoreItemNotFound
from flyte.errors import InvalidDatastoreItem
from flyte.secrets import SecretBox
from flyte.secrets import SecretsUnavailable
from flyte.secrets import generate_key
from flyte.store.datastore import DatastoreStore
from flyte.store.retention import Retention
from flyte.store.retention import purge_expired

PLAINTEXT = "s3cr3t-token-7f1e9a"
TOKEN = DatastoreItem(
    key="api-token", value=PLAINTEXT.encode(), secret=True, description="CI token"
)


def database_text(db: Database[dict[str, Any]]) -> str:
    """Every document of every collection, as extended JSON (bytes as base64 too)."""
    dumps: list[str] = []
    for name in db.list_collection_names():
        for doc in db[name].find({}):
            dumps.append(json_util.dumps(doc))
            # Binary values are base64 in extended JSON: check their raw bytes too.
            dumps.extend(
                repr(bytes(value)) for value in doc.values() if isinstance(value, bytes)
            )
    return "\n".join(dumps)


def test_a_secret_is_encrypted_at_rest_and_read_back_only_by_reveal(
    db: Database[dict[str, Any]],
) -> None:
    store = DatastoreStore(db, SecretBox(generate_key()))
    assert store.put(TOKEN) is True
    assert PLAINTEXT not in database_text(db)
    stored = db["datastore"].find_one({"_id": "api-token"})
    assert stored is not None and PLAINTEXT.encode() not in bytes(stored["value"])
    item = store.get("api-token")
    assert (item.secret, item.value, item.description) == (True, b"", "CI token")
    assert store.reveal_secret("api-token") == PLAINTEXT
    listed = store.list_items()
    assert [(i.key, i.secret, i.value) for i in listed] == [("api-token", True, b"")]


def test_reveal_refuses_missing_and_plain_items(db: Database[dict[str, Any]]) -> None:
    store = DatastoreStore(db, SecretBox(generate_key()))
    store.put(DatastoreItem(key="plain", value=b"visible"))
    for key in ("plain", "missing"):
        with pytest.raises(DatastoreItemNotFound):
            store.reveal_secret(key)


def test_storing_a_secret_without_a_key_names_the_setting(
    db: Database[dict[str, Any]],
) -> None:
    with pytest.raises(InvalidDatastoreItem) as raised:
        DatastoreStore(db).put(TOKEN)
    assert "FLYTE_SECRETS_KEY" in str(raised.value)
    assert db["datastore"].count_documents({}) == 0


def test_an_old_key_still_reads_and_rekey_moves_every_secret_to_the_new_one(
    db: Database[dict[str, Any]],
) -> None:
    old, new = generate_key(), generate_key()
    DatastoreStore(db, SecretBox(old)).put(TOKEN)
    rotating = DatastoreStore(db, SecretBox(new, [old]))
    assert rotating.reveal_secret("api-token") == PLAINTEXT
    assert rotating.rekey() == 1
    assert DatastoreStore(db, SecretBox(new)).reveal_secret("api-token") == PLAINTEXT
    with pytest.raises(SecretsUnavailable):
        DatastoreStore(db, SecretBox(old)).reveal_secret("api-token")


def test_an_item_past_its_ttl_is_never_read_even_before_the_purge(
    db: Database[dict[str, Any]],
) -> None:
    now = to_millis(utcnow())
    clock = [now]
    store = DatastoreStore(db, clock_ms=lambda: clock[0])
    store.put(
        DatastoreItem(key="ran-recently", value=b"1", expires_at_ms=now + 600_000)
    )
    assert store.get("ran-recently").expires_at_ms == now + 600_000
    clock[0] = now + 600_000
    with pytest.raises(DatastoreItemNotFound):
        store.get("ran-recently")
    assert store.list_items() == []
    # Still stored until the purge deletes it.
    assert db["datastore"].count_documents({}) == 1


def test_replacing_an_item_without_a_ttl_removes_its_expiry(
    db: Database[dict[str, Any]],
) -> None:
    store = DatastoreStore(db)
    store.put(DatastoreItem(key="k", value=b"1", expires_at_ms=1))
    store.put(DatastoreItem(key="k", value=b"2"))
    assert store.get("k") == DatastoreItem(key="k", value=b"2")
    doc = db["datastore"].find_one({"_id": "k"})
    assert doc is not None and "expiresAtMs" not in doc and "expireAt" not in doc


def test_the_purge_deletes_expired_items_and_keeps_live_ones(
    db: Database[dict[str, Any]],
) -> None:
    now = utcnow()
    store = DatastoreStore(db)
    store.put(DatastoreItem(key="gone", value=b"1", expires_at_ms=to_millis(now) - 1))
    store.put(
        DatastoreItem(key="live", value=b"1", expires_at_ms=to_millis(now) + 60_000)
    )
    store.put(DatastoreItem(key="kept", value=b"1"))
    purged = purge_expired(db, Retention(), now)
    assert purged["datastore"] == 1
    assert sorted(doc["_id"] for doc in db["datastore"].find({})) == ["kept", "live"]


def test_secret_documents_json_has_no_plaintext(db: Database[dict[str, Any]]) -> None:
    # The JSON scan itself must see stored values: a plain item's value is found.
    store = DatastoreStore(db, SecretBox(generate_key()))
    store.put(DatastoreItem(key="plain", value=b"findable-value"))
    assert "findable-value" in database_text(db)
    assert json.loads(json_util.dumps({"a": 1})) == {"a": 1}
