"""The flow store's trigger cache: zero MongoDB commands for a hit, and every flow
write seen by every other store on the next lookup.

Two stores share one database and one Redis: ``api`` writes, as the API process
does; ``worker`` matches events, as a worker process does, through a MongoDB
client of its own whose commands are counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.monitoring import CommandFailedEvent
from pymongo.monitoring import CommandListener
from pymongo.monitoring import CommandStartedEvent
from pymongo.monitoring import CommandSucceededEvent

from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.flow import Flow
from flyte.flow import StepCommand
from flyte.flow_stamp import RedisFlowStamp
from flyte.flow_stamp import stamp_client
from flyte.store.flows import FlowStore
from flyte.store.trigger_cache import TriggerCache
from tests.flyte.store.test_flows import make_flow
from tests.outages import OwnServer
from tests.outages import own_redis


class CommandLog(CommandListener):
    """The names of the commands a MongoDB client sends, in order."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        """Note a command as it is sent."""
        self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        """Nothing to note."""

    def failed(self, event: CommandFailedEvent) -> None:
        """Nothing to note."""

    def count_during(self, work: Any) -> int:
        """How many commands ``work()`` sent."""
        before = len(self.names)
        work()
        return len(self.names) - before


@pytest.fixture
def stamp_redis(settings: Settings) -> Iterator[redis.Redis]:
    """The stamp's client of the session's Redis; the test's stamp is removed after."""
    client = stamp_client(settings.redis_url)
    yield client
    client.delete(RedisFlowStamp(client, settings.mongo_database).key)
    client.close()


@pytest.fixture
def api(db: Database[dict[str, Any]], stamp_redis: redis.Redis) -> FlowStore:
    """The API process's flow store."""
    return FlowStore(db, stamp=RedisFlowStamp(stamp_redis, db.name))


@pytest.fixture
def commands() -> CommandLog:
    """The commands the worker's store sends."""
    return CommandLog()


@pytest.fixture
def worker_db(
    settings: Settings, db: Database[dict[str, Any]], commands: CommandLog
) -> Iterator[Database[dict[str, Any]]]:
    """The test database through a client whose commands ``commands`` logs."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongo_uri, event_listeners=[commands]
    )
    yield client[db.name]
    client.close()


@pytest.fixture
def worker(worker_db: Database[dict[str, Any]], stamp_redis: redis.Redis) -> FlowStore:
    """A worker process's flow store, on the same database and Redis as ``api``."""
    return FlowStore(worker_db, stamp=RedisFlowStamp(stamp_redis, worker_db.name))


def with_input(flow: Flow, value: str) -> Flow:
    """``flow`` whose trigger step's command has ``value`` as its input."""
    trigger, *rest = flow.steps
    command = StepCommand("Run", "Shell", input={"value": value})
    return replace(flow, steps=(replace(trigger, command=command), *rest))


def inputs(flows: list[Flow]) -> list[Any]:
    return [flow.steps[0].command.input for flow in flows]


def test_a_hit_sends_no_mongodb_command_and_answers_the_same(
    api: FlowStore, worker: FlowStore, commands: CommandLog
) -> None:
    stored = api.add(make_flow())
    first = worker.find_by_trigger("Slack", "Msg")
    assert first == [stored]
    # When the worker matches the next events, nothing having changed
    for _ in range(3):
        assert (
            commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) == 0
        )
    assert worker.find_by_trigger("Slack", "Msg") == [stored]


def test_an_event_no_flow_matches_is_cached_too(
    api: FlowStore, worker: FlowStore, commands: CommandLog
) -> None:
    assert worker.find_by_trigger("Slack", "Msg") == []
    assert commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) == 0
    # ... until a flow starts matching it
    stored = api.add(make_flow())
    assert worker.find_by_trigger("Slack", "Msg") == [stored]


def test_a_hit_returns_a_list_of_the_callers_own(
    api: FlowStore, worker: FlowStore
) -> None:
    api.add(make_flow())
    worker.find_by_trigger("Slack", "Msg").clear()
    hit = worker.find_by_trigger("Slack", "Msg")
    hit.clear()
    assert [f.name for f in worker.find_by_trigger("Slack", "Msg")] == ["deploy"]


def test_a_new_version_is_seen_on_the_next_lookup(
    api: FlowStore, worker: FlowStore
) -> None:
    api.add(with_input(make_flow(), "one"))
    assert inputs(worker.find_by_trigger("Slack", "Msg")) == [{"value": "one"}]
    second = api.add(with_input(make_flow(), "two"))
    found = worker.find_by_trigger("Slack", "Msg")
    assert [f.uuid for f in found] == [second.uuid]
    assert inputs(found) == [{"value": "two"}]


def test_pause_and_resume_are_seen_on_the_next_lookup(
    api: FlowStore, worker: FlowStore
) -> None:
    api.add(make_flow())
    assert [f.enabled for f in worker.find_by_trigger("Slack", "Msg")] == [True]
    api.set_enabled("deploy", False)
    assert [f.enabled for f in worker.find_by_trigger("Slack", "Msg")] == [False]
    api.set_enabled("deploy", True)
    assert [f.enabled for f in worker.find_by_trigger("Slack", "Msg")] == [True]


def test_a_delete_is_seen_on_the_next_lookup(api: FlowStore, worker: FlowStore) -> None:
    api.add(make_flow())
    assert len(worker.find_by_trigger("Slack", "Msg")) == 1
    api.delete("deploy")
    assert worker.find_by_trigger("Slack", "Msg") == []


def test_a_repost_without_the_trigger_is_seen_on_the_next_lookup(
    api: FlowStore, worker: FlowStore
) -> None:
    api.add(make_flow(event="Msg"))
    assert len(worker.find_by_trigger("Slack", "Msg")) == 1
    assert worker.find_by_trigger("Slack", "Changed") == []
    api.add(make_flow(event="Changed"))
    assert worker.find_by_trigger("Slack", "Msg") == []
    assert [f.name for f in worker.find_by_trigger("Slack", "Changed")] == ["deploy"]


def test_a_change_to_another_flow_reloads_every_key(
    api: FlowStore, worker: FlowStore, commands: CommandLog
) -> None:
    api.add(make_flow("a"))
    worker.find_by_trigger("Slack", "Msg")
    api.add(make_flow("b", event="Other"))
    # One stamp for every flow: any flow write reloads every key once
    assert commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) > 0
    assert commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) == 0


def test_a_lost_stamp_reloads(
    settings: Settings,
    api: FlowStore,
    worker: FlowStore,
    commands: CommandLog,
    stamp_redis: redis.Redis,
) -> None:
    api.add(make_flow())
    worker.find_by_trigger("Slack", "Msg")
    # When Redis loses the stamp (restarted without its data)
    stamp_redis.delete(RedisFlowStamp(stamp_redis, settings.mongo_database).key)
    # Then the next lookup makes a new one and reads MongoDB
    assert commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) > 0
    assert commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg")) == 0


def test_stores_of_other_databases_have_stamps_of_their_own(
    settings: Settings, stamp_redis: redis.Redis
) -> None:
    one = RedisFlowStamp(stamp_redis, settings.mongo_database)
    other = RedisFlowStamp(stamp_redis, settings.mongo_database + "_other")
    try:
        before = one.current()
        other.renew()
        assert one.current() == before
        one.renew()
        assert one.current() != before
    finally:
        stamp_redis.delete(other.key)


def test_without_a_stamp_every_lookup_reads_mongodb(
    api: FlowStore, worker_db: Database[dict[str, Any]], commands: CommandLog
) -> None:
    api.add(make_flow())
    uncached = FlowStore(worker_db)
    for _ in range(2):
        assert commands.count_during(lambda: uncached.find_by_trigger("Slack", "Msg"))


def test_a_read_that_may_have_missed_a_write_is_never_served(
    api: FlowStore, worker_db: Database[dict[str, Any]], stamp_redis: redis.Redis
) -> None:
    """Two threads of one worker: the first reads the stamp, then a write renews it,
    the second caches under the new stamp, and only then does the first's read
    (which may predate the write) return: it must not be cached under either."""
    stamp = RedisFlowStamp(stamp_redis, worker_db.name)
    cache = TriggerCache(stamp)
    stale = [replace(make_flow("stale"), uuid="old")]
    fresh = [replace(make_flow("fresh"), uuid="new")]

    def slow_read() -> list[Flow]:
        stamp.renew()  # the write, after the first thread's stamp read
        assert cache.flows("k", lambda: fresh) == fresh
        return stale

    assert cache.flows("k", slow_read) == stale
    assert cache.flows("k", lambda: pytest.fail("a hit was expected")) == fresh


def test_an_entry_is_not_served_past_its_age_bound(
    settings: Settings, stamp_redis: redis.Redis
) -> None:
    now = [100.0]
    stamp = RedisFlowStamp(stamp_redis, settings.mongo_database)
    cache = TriggerCache(stamp, max_age=60, monotonic=lambda: now[0])
    loads: list[int] = []

    def load() -> list[Flow]:
        loads.append(1)
        return []

    cache.flows("k", load)
    now[0] += 59
    cache.flows("k", load)
    assert len(loads) == 1
    # When the stamp has not changed for a minute (a Redis back from its AOF
    # may have brought an old one back)
    now[0] += 1
    cache.flows("k", load)
    assert len(loads) == 2


@pytest.fixture
def lost_redis(tmp_path: Path) -> Iterator[OwnServer]:
    """A Redis of the test's own, which it stops."""
    with own_redis(tmp_path) as server:
        yield server


def test_while_redis_is_down_lookups_read_mongodb_and_writes_fail(
    db: Database[dict[str, Any]],
    worker_db: Database[dict[str, Any]],
    commands: CommandLog,
    lost_redis: OwnServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = stamp_client(lost_redis.url)
    api = FlowStore(db, stamp=RedisFlowStamp(client, db.name))
    worker = FlowStore(worker_db, stamp=RedisFlowStamp(client, db.name))
    stored = api.add(make_flow())
    assert worker.find_by_trigger("Slack", "Msg") == [stored]
    # When Redis stops
    lost_redis.stop()
    # Then lookups still answer, from MongoDB (nothing else writes meanwhile)
    with caplog.at_level(logging.WARNING, logger="flyte.store.trigger_cache"):
        for _ in range(3):
            assert (
                commands.count_during(lambda: worker.find_by_trigger("Slack", "Msg"))
                > 0
            )
    assert worker.find_by_trigger("Slack", "Msg") == [stored]
    # ... with one warning for the outage, not one per lookup
    warnings = [r for r in caplog.records if r.name == "flyte.store.trigger_cache"]
    assert len(warnings) == 1
    assert "uncached" in warnings[0].getMessage()
    # And a flow write fails before touching MongoDB, so no worker can miss it
    with pytest.raises(Unavailable):
        api.add(with_input(make_flow(), "unseen"))
    with pytest.raises(Unavailable):
        api.delete("deploy")
    assert api.get("deploy") == stored


def test_with_redis_unreachable_from_the_start_lookups_read_mongodb(
    db: Database[dict[str, Any]], lost_redis: OwnServer
) -> None:
    stored = FlowStore(db).add(make_flow())
    url = lost_redis.url
    lost_redis.stop()
    worker = FlowStore(db, stamp=RedisFlowStamp(stamp_client(url), db.name))
    assert worker.find_by_trigger("Slack", "Msg") == [stored]


def test_threads_share_one_cache_safely(api: FlowStore, worker: FlowStore) -> None:
    stored = api.add(make_flow())
    errors: list[BaseException] = []

    def match() -> None:
        try:
            for _ in range(50):
                assert worker.find_by_trigger("Slack", "Msg") == [stored]
        except BaseException as ex:  # noqa: BLE001 - reported by the test thread
            errors.append(ex)

    threads = [threading.Thread(target=match) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
