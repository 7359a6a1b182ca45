"""The Datastore pages show a secret as a mask, and an item's expiry."""

from __future__ import annotations

from falcon import testing

from flyte.datastore import DatastoreItem
from flyte.masking import MASKED
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore

PLAINTEXT = "console-secret-42"


def test_a_secret_is_listed_as_secret_and_shown_only_as_the_mask(
    client: testing.TestClient, stores: Stores
) -> None:
    secrets = DatastoreStore(stores.db, SecretBox(generate_key()))
    secrets.put(DatastoreItem(key="token", value=PLAINTEXT.encode(), secret=True))
    listing = client.simulate_get("/console/datastore").text
    assert '<span class="secret">secret</span>' in listing
    page = client.simulate_get("/console/datastore/token")
    assert page.status_code == 200
    assert f'id="datastore-value" class="secret mono">{MASKED}<' in page.text
    assert "secret('token')" in page.text
    assert "/v1/datastore/token" not in page.text
    assert PLAINTEXT not in listing + page.text


def test_an_item_with_a_ttl_shows_when_it_expires(
    client: testing.TestClient, stores: Stores
) -> None:
    expires = 4_102_444_800_000  # 2100-01-01
    stores.datastore.put(DatastoreItem(key="k", value=b"1", expires_at_ms=expires))
    assert "2100-01-01 00:00:00" in client.simulate_get("/console/datastore").text
    assert "2100-01-01 00:00:00" in client.simulate_get("/console/datastore/k").text
