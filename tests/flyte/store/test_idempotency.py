"""Contract tests of IdempotencyStore; they run unchanged on nx-27017 or real MongoDB.

They pin what the store relies on: a duplicate ``_id`` insert fails atomically,
even between two clients (two API processes), and conditional updates on
scalar fields match exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from pymongo.database import Database

from flyte.config import Settings
from flyte.store import connect
from flyte.store.idempotency import COLLECTION
from flyte.store.idempotency import IdempotencyStore
from flyte.store.idempotency import KeyRecord
from flyte.store.idempotency import KeyState
from flyte.store.idempotency import key_record_id
from flyte.store.mongo import is_nx_27017
from flyte.store.retention import Retention
from flyte.store.retention import ensure_ttl_indexes
from flyte.store.retention import purge_expired

T0 = datetime(2026, 1, 2, 15, 4, 5, 250000, tzinfo=UTC)
WINDOW = timedelta(days=1)


def candidate(claim: str = "c1", at: datetime = T0, event_id: str = "e1") -> KeyRecord:
    return KeyRecord(
        id=key_record_id("Slack", "k1"),
        pack_id="Slack",
        key="k1",
        fingerprint="f1",
        event_id=event_id,
        state=KeyState.IN_FLIGHT,
        claim=claim,
        claimed_at=at,
        created_at=at,
    )


@pytest.fixture
def keys(db: Database[dict[str, Any]]) -> IdempotencyStore:
    return IdempotencyStore(db)


@pytest.fixture
def other_process(
    db: Database[dict[str, Any]], settings: Settings
) -> Iterator[IdempotencyStore]:
    """The same database through a client of its own, as another API process."""
    client = connect(settings).client
    yield IdempotencyStore(client[db.name])
    client.close()


def test_begin_claims_a_new_key(keys: IdempotencyStore) -> None:
    assert keys.begin(candidate(), WINDOW) == candidate()


def test_begin_returns_the_first_claim_to_a_second_process(
    keys: IdempotencyStore, other_process: IdempotencyStore
) -> None:
    keys.begin(candidate("first", event_id="e1"), WINDOW)
    found = other_process.begin(candidate("second", event_id="e2"), WINDOW)
    assert (found.claim, found.event_id) == ("first", "e1")
    assert found.claimed_at == T0  # stored to the millisecond


def test_one_of_many_concurrent_claims_wins(
    keys: IdempotencyStore, other_process: IdempotencyStore
) -> None:
    stores = [keys, other_process] * 8
    with ThreadPoolExecutor(16) as pool:
        found = list(
            pool.map(
                lambda n: stores[n].begin(candidate(f"c{n}", event_id=f"e{n}"), WINDOW),
                range(16),
            )
        )
    assert len({(record.claim, record.event_id) for record in found}) == 1


def test_a_key_older_than_the_window_is_claimed_anew(
    keys: IdempotencyStore,
) -> None:
    keys.begin(candidate("old", event_id="e-old"), WINDOW)
    later = candidate("new", at=T0 + WINDOW + timedelta(seconds=1), event_id="e-new")
    assert keys.begin(later, WINDOW) == later


def test_a_key_within_the_window_is_kept(keys: IdempotencyStore) -> None:
    keys.begin(candidate("old"), WINDOW)
    later = candidate("new", at=T0 + WINDOW - timedelta(seconds=1))
    assert keys.begin(later, WINDOW).claim == "old"


def test_take_over_succeeds_once_for_the_record_as_read(
    keys: IdempotencyStore, other_process: IdempotencyStore
) -> None:
    read = keys.begin(candidate("dead"), WINDOW)
    now = T0 + timedelta(seconds=5)
    taken = keys.take_over(read, "retry-1", now)
    assert taken == dataclasses.replace(read, claim="retry-1", claimed_at=now)
    assert other_process.take_over(read, "retry-2", now) is None
    assert keys.begin(candidate("x"), WINDOW).claim == "retry-1"


def test_a_done_record_cannot_be_taken_over(keys: IdempotencyStore) -> None:
    read = keys.begin(candidate(), WINDOW)
    keys.complete(read)
    assert keys.begin(candidate("x"), WINDOW).state is KeyState.DONE
    assert keys.take_over(read, "retry", T0 + timedelta(seconds=5)) is None


def test_release_lets_a_retry_take_over_at_once(keys: IdempotencyStore) -> None:
    mine = keys.begin(candidate("mine"), WINDOW)
    keys.release(dataclasses.replace(mine, claim="not-mine"))
    assert keys.begin(candidate("x"), WINDOW).claimed_at == T0
    keys.release(mine)
    released = keys.begin(candidate("x"), WINDOW)
    assert released.claimed_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert keys.take_over(released, "retry", T0) is not None


def test_keys_expire_with_their_window(db: Database[dict[str, Any]]) -> None:
    retention = Retention(idempotency_keys=WINDOW)
    ensure_ttl_indexes(db, retention)
    keys = IdempotencyStore(db)
    keys.begin(candidate(), WINDOW)
    assert purge_expired(db, retention, T0 + WINDOW)[COLLECTION] == 0
    assert purge_expired(db, retention, T0 + WINDOW * 2)[COLLECTION] == 1
    ttls = [
        index.get("expireAfterSeconds")
        for index in db[COLLECTION].list_indexes()
        if list(index["key"]) == ["storedAt"]
    ]
    # nx-27017's lazy TTL would scan on every read: the purge expires keys there.
    assert ttls == ([] if is_nx_27017(db) else [86400])
