"""Retention: TTL indexes are declared, and data past its TTL disappears."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from pymongo.database import Database

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.event import Event
from flyte.event import PackRef
from flyte.store import open_stores
from flyte.store.mongo import is_nx_27017
from flyte.store.retention import Retention
from flyte.store.retention import ensure_ttl_indexes
from flyte.store.retention import purge_expired

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RETENTION = Retention(
    actions=timedelta(days=10), audit=timedelta(days=20), events=timedelta(days=5)
)


def ttl_of(db: Database[dict[str, Any]], collection: str) -> int | None:
    for index in db[collection].list_indexes():
        if list(index["key"]) == ["storedAt"]:
            return index.get("expireAfterSeconds")
    return None


def action(action_id: str, created: datetime) -> Action:
    trigger = Event("e", "Msg", PackRef("Slack", "Slack"), created, created)
    return Action(
        id=action_id,
        name="Run",
        pack_name="Shell",
        correlation_id="c",
        flow_name="f",
        flow_uuid="u",
        step_id=action_id,
        trigger=trigger,
        states=(StateChange(ActionState.NEW, created),),
    )


def test_ttl_indexes_are_declared_for_real_mongodb_only(
    db: Database[dict[str, Any]],
) -> None:
    ensure_ttl_indexes(db, RETENTION)
    if is_nx_27017(db):
        # Its lazy TTL would make every read scan the collection.
        assert [ttl_of(db, c) for c in ("action", "audit", "event")] == [None] * 3
    else:
        assert ttl_of(db, "action") == 10 * 86400
        assert ttl_of(db, "audit") == 20 * 86400
        assert ttl_of(db, "event") == 5 * 86400


def test_a_changed_ttl_replaces_the_index(db: Database[dict[str, Any]]) -> None:
    ensure_ttl_indexes(db, RETENTION)
    ensure_ttl_indexes(db, Retention(actions=timedelta(days=3)))
    expected = None if is_nx_27017(db) else 3 * 86400
    assert ttl_of(db, "action") == expected


def test_data_past_its_ttl_disappears(db: Database[dict[str, Any]]) -> None:
    stores = open_stores(db)
    stores.actions.insert(action("old", NOW - timedelta(days=11)))
    stores.actions.insert(action("young", NOW - timedelta(days=9)))
    old_event = Event("old", "Msg", PackRef("Slack", "Slack"), NOW, NOW)
    young_event = Event("young", "Msg", PackRef("Slack", "Slack"), NOW, NOW)
    stores.events.add(old_event, NOW - timedelta(days=6))
    stores.events.add(young_event, NOW - timedelta(days=4))
    purged = purge_expired(db, RETENTION, NOW)
    assert purged["action"] == 1 and purged["event"] == 1
    assert [a["_id"] for a in db["action"].find({}, {"_id": 1})] == ["young"]
    assert [e["_id"] for e in db["event"].find({}, {"_id": 1})] == ["young"]
