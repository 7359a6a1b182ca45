"""Counting MongoDB commands by stage, on a real server (nx-27017 by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo.database import Database

from flyte.config import Settings
from flyte.event import Event
from flyte.event import PackRef
from flyte.metrics import Metrics
from flyte.store import connect
from flyte.store.events import EventStore
from flyte.store.monitoring import ACCEPT
from flyte.store.monitoring import EVALUATE
from flyte.store.monitoring import OTHER
from flyte.store.monitoring import counting_stage
from flyte.store.monitoring import current_stage
from flyte.store.monitoring import target_collection

NOW = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of this test's own, so no process global counts."""
    return CollectorRegistry()


@pytest.fixture
def counted_db(
    settings: Settings, registry: CollectorRegistry
) -> Iterator[Database[dict[str, Any]]]:
    """A database whose client counts its commands in ``registry``."""
    db = connect(settings, Metrics(registry))
    yield db
    db.client.drop_database(db.name)
    db.client.close()


def sent(
    registry: CollectorRegistry, stage: str, collection: str, command: str
) -> float:
    """How many such commands were counted; 0 when none."""
    labels = {"stage": stage, "collection": collection, "command": command}
    return registry.get_sample_value("flyte_mongo_commands_total", labels) or 0.0


def make_event(event_id: str) -> Event:
    return Event(event_id, "Msg", PackRef("Slack", "Slack"), NOW, NOW, {"n": 1})


def test_commands_inside_a_stage_count_under_it(
    counted_db: Database[dict[str, Any]], registry: CollectorRegistry
) -> None:
    events = EventStore(counted_db)
    with counting_stage(ACCEPT):
        events.add(make_event("e1"), NOW)
    assert sent(registry, ACCEPT, "event", "insert") == 1
    assert sent(registry, OTHER, "event", "insert") == 0


def test_commands_outside_any_stage_count_as_other(
    counted_db: Database[dict[str, Any]], registry: CollectorRegistry
) -> None:
    events = EventStore(counted_db)
    events.add(make_event("e1"), NOW)
    events.get("e1")
    counted_db.command("ping")
    assert sent(registry, OTHER, "event", "insert") == 1
    assert sent(registry, OTHER, "event", "find") == 1
    assert sent(registry, OTHER, "", "ping") == 1


def test_a_getmore_counts_under_the_collection_of_its_cursor(
    counted_db: Database[dict[str, Any]], registry: CollectorRegistry
) -> None:
    counted_db["event"].insert_many([{"_id": n} for n in range(3)])
    assert len(list(counted_db["event"].find(batch_size=1))) == 3
    assert sent(registry, OTHER, "event", "getMore") >= 1


def test_a_stage_ends_with_its_block_and_stays_in_its_thread() -> None:
    seen: list[str] = []
    with counting_stage(EVALUATE):
        with counting_stage(ACCEPT):
            assert current_stage.get() == ACCEPT
        assert current_stage.get() == EVALUATE
        other = threading.Thread(target=lambda: seen.append(current_stage.get()))
        other.start()
        other.join()
    assert current_stage.get() == OTHER
    assert seen == [OTHER]


@pytest.mark.parametrize(
    ("command", "collection"),
    [
        ({"insert": "event", "ordered": True}, "event"),
        ({"findAndModify": "action", "query": {}}, "action"),
        ({"getMore": 42, "collection": "event"}, "event"),
        ({"aggregate": 1, "pipeline": []}, ""),
        ({"ping": 1}, ""),
        ({}, ""),
    ],
)
def test_the_collection_is_the_one_the_command_document_names(
    command: dict[str, Any], collection: str
) -> None:
    name = next(iter(command), "saslStart")
    assert target_collection(name, command) == collection
