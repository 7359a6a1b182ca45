"""Contract tests of the connection helpers: indexes, ping, lost connections."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pymongo.database import Database

from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from flyte.store import ping
from flyte.store.indexes import INDEXES


def test_ensure_indexes_creates_every_declared_index(
    db: Database[dict[str, Any]],
) -> None:
    for collection, fields in INDEXES.items():
        keys = [list(i["key"]) for i in db[collection].list_indexes()]
        for name in fields:
            assert [name] in keys


def test_ensure_indexes_is_idempotent(db: Database[dict[str, Any]]) -> None:
    ensure_indexes(db)
    ensure_indexes(db)
    assert len(list(db["pack"].list_indexes())) == 1 + len(INDEXES["pack"])


def test_ping_answers_on_a_live_server(db: Database[dict[str, Any]]) -> None:
    ping(db)


def test_a_dead_server_raises_unavailable(settings: Settings) -> None:
    dead = replace(settings, mongo_uri="mongodb://127.0.0.1:1/", mongo_timeout_ms=200)
    database = connect(dead)
    try:
        with pytest.raises(Unavailable):
            ping(database)
        with pytest.raises(Unavailable):
            open_stores(database).packs.list_packs()
    finally:
        database.client.close()
