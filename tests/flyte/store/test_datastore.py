"""Contract tests of DatastoreStore; they run unchanged on nx-27017 or real MongoDB."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flyte.datastore import DatastoreItem
from flyte.errors import DatastoreItemNotFound
from flyte.store import Stores

TEAMS = DatastoreItem(
    key="teams",
    content_type="application/json",
    description="teams.json",
    value=b'{"teama": {"email": "a@example.com"}}',
)


def test_put_then_get_round_trips_every_field(stores: Stores) -> None:
    assert stores.datastore.put(TEAMS) is True
    assert stores.datastore.get("teams") == TEAMS


def test_get_unknown_key_raises_datastore_item_not_found(stores: Stores) -> None:
    with pytest.raises(DatastoreItemNotFound) as raised:
        stores.datastore.get("nope")
    assert raised.value.key == "nope"


def test_put_again_replaces_the_whole_item_and_says_it_was_not_new(
    stores: Stores,
) -> None:
    stores.datastore.put(TEAMS)
    newer = DatastoreItem(key="teams", content_type="text/csv", value=b"a,b")
    assert stores.datastore.put(newer) is False
    # The description was omitted, so it is empty now.
    assert stores.datastore.get("teams") == newer


def test_put_the_same_item_again_is_still_an_update(stores: Stores) -> None:
    stores.datastore.put(TEAMS)
    assert stores.datastore.put(TEAMS) is False


def test_every_byte_value_round_trips(stores: Stores) -> None:
    binary = replace(TEAMS, key="bin", value=bytes(range(256)) * 2)
    stores.datastore.put(binary)
    stored = stores.datastore.get("bin")
    assert type(stored.value) is bytes
    assert stored.value == bytes(range(256)) * 2
    # Replacing a binary value takes another path through the server.
    stores.datastore.put(replace(binary, value=bytes(range(255, -1, -1))))
    assert stores.datastore.get("bin").value == bytes(range(255, -1, -1))


def test_value_that_is_not_utf8_round_trips(stores: Stores) -> None:
    item = replace(TEAMS, key="latin1", value="café".encode("latin-1"))
    stores.datastore.put(item)
    assert stores.datastore.get("latin1").value == b"caf\xe9"


def test_large_value_round_trips(stores: Stores) -> None:
    large = bytes(range(256)) * 4096 * 4  # 4 MiB
    stores.datastore.put(replace(TEAMS, key="large", value=large))
    assert stores.datastore.get("large").value == large


def test_list_is_sorted_by_key_without_values(stores: Stores) -> None:
    for key in ("teams", "Argo", "hosts"):
        stores.datastore.put(replace(TEAMS, key=key))
    items = stores.datastore.list_items()
    assert [item.key for item in items] == ["Argo", "hosts", "teams"]
    assert all(item.value == b"" for item in items)
    assert items[0].content_type == "application/json"
    assert items[0].description == "teams.json"


def test_list_keeps_an_empty_description_empty(stores: Stores) -> None:
    stores.datastore.put(DatastoreItem(key="k", content_type="text/plain", value=b"v"))
    [item] = stores.datastore.list_items()
    assert (item.key, item.content_type, item.description) == ("k", "text/plain", "")


def test_list_of_empty_store_is_empty(stores: Stores) -> None:
    assert stores.datastore.list_items() == []


def test_keys_with_dots_spaces_and_unicode_are_kept_as_they_are(
    stores: Stores,
) -> None:
    for key in ("a.b", "with space", "ключ", "$dollar"):
        stores.datastore.put(replace(TEAMS, key=key))
        assert stores.datastore.get(key).key == key


def test_delete_removes_the_item(stores: Stores) -> None:
    stores.datastore.put(TEAMS)
    stores.datastore.delete("teams")
    with pytest.raises(DatastoreItemNotFound):
        stores.datastore.get("teams")
    assert stores.datastore.list_items() == []


def test_delete_unknown_key_raises_datastore_item_not_found(stores: Stores) -> None:
    with pytest.raises(DatastoreItemNotFound):
        stores.datastore.delete("nope")


def test_the_document_has_upstreams_shape(stores: Stores) -> None:
    stores.datastore.put(TEAMS)
    doc = stores.db["datastore"].find_one({"_id": "teams"})
    assert doc is not None
    assert set(doc) == {"_id", "contentType", "description", "value"}
    assert doc["value"] == TEAMS.value
