"""Delivery guarantees with real worker processes: nothing lost, nothing twice.

Workers are real Dramatiq worker processes (``workers.main``) on each broker in
turn (Redis, then RabbitMQ when one answers), and they are killed with SIGKILL;
Redis itself is killed and restarted, and RabbitMQ cut off and restored. After
the recovery job runs, every accepted event has produced exactly its expected
action.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dramatiq
import pytest

from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.flow import parse_flow
from flyte.housekeeping import Housekeeper
from flyte.pack import Pack
from flyte.runtime import Leases
from flyte.runtime import PackRuntime
from flyte.store import Stores
from templates import TemplateEngine
from tests.rabbitmq import Relay
from tests.servers import Server
from tests.servers import WorkerProcesses
from tests.servers import with_database
from workers.broker import build_broker
from workers.queue import DramatiqQueue

FLOW = {
    "name": "count",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "command": {
                "packName": "Shell",
                "name": "Run",
                "input": "{{ Event.Payload.n }}",
            },
        }
    ],
}
LEASES = Leases(seconds=600, max_attempts=3)
SETTLE_WITHIN = 120.0


def prepare(stores: Stores) -> None:
    stores.packs.register(Pack(id="Slack", name="Slack", last_seen=datetime.now(UTC)))
    stores.flows.add(parse_flow(FLOW, TemplateEngine().check_syntax))


def worker_env(
    settings: Settings, redis_url: str, broker_url: str | None = None
) -> dict[str, str]:
    uri = with_database(settings.mongo_uri, settings.mongo_database)
    env = {
        **os.environ,
        "FLYTE_MGO_HOST": uri,
        "REDIS_URL": redis_url,
        "LOGLEVEL": "warning",
    }
    if broker_url:
        env["FLYTE_BROKER_URL"] = broker_url
    return env


def processed(stores: Stores) -> int:
    return stores.db["event"].count_documents({"status": "processed"})


def settle(stores: Stores, broker: dramatiq.Broker, expected: int) -> None:
    """Run the recovery job, as the scheduler would, until every event is processed."""
    housekeeper = Housekeeper(
        stores, DramatiqQueue(broker), LEASES, timedelta(seconds=3)
    )
    deadline = time.monotonic() + SETTLE_WITHIN
    while processed(stores) < expected:
        assert time.monotonic() < deadline, (
            f"{processed(stores)} of {expected} processed"
        )
        housekeeper.recover_events()
        time.sleep(1)


def assert_exactly_one_action_per_event(stores: Stores, accepted: list[str]) -> None:
    assert stores.db["event"].count_documents({}) == len(accepted)
    actions = list(stores.db["action"].find({}, {"trigger": 1}))
    triggers = [a["trigger"]["id"] for a in actions]
    assert len(triggers) == len(accepted), "an event produced no action, or two"
    assert sorted(triggers) == sorted(accepted)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A data directory and port for a Redis this test may kill and restart."""
    from flyte.devserver.embedded import free_port

    yield tmp_path / "redis-data", free_port()


@pytest.mark.slow
def test_killing_workers_mid_stream_loses_and_duplicates_nothing(
    settings: Settings,
    stores: Stores,
    broker_url: str,
    tmp_path: Path,
    killable_redis_url: str,
) -> None:
    if broker_url == settings.redis_url:
        broker_url = killable_redis_url
    prepare(stores)
    broker = build_broker(replace(settings, broker_url=broker_url))
    workers = WorkerProcesses(
        worker_env(settings, killable_redis_url, broker_url), tmp_path / "w.log"
    )
    runtime = PackRuntime(stores, DramatiqQueue(broker), LEASES)
    workers.start()
    accepted: list[str] = []

    def post_stream() -> None:
        for n in range(1000):
            body = {"event": "Msg", "payload": {"n": n}}
            accepted.append(runtime.post_event("Slack", lambda b=body: b).id)

    # Posted from a thread, so the kill lands while events still arrive: the
    # workers keep up with a stream posted first and then waited on.
    poster = threading.Thread(target=post_stream)
    try:
        # Given 1,000 events in flight
        poster.start()
        while processed(stores) < 100:
            time.sleep(0.05)
        # When every worker process is killed without warning, then restarted
        workers.kill()
        assert processed(stores) < 1000, "too late: the workers had finished"
        poster.join()
        assert len(accepted) == 1000
        workers.start()
        # Then, once recovery has run, each event made exactly its one action
        settle(stores, broker, len(accepted))
    finally:
        if poster.is_alive():
            poster.join()
        workers.stop()
        broker.close()
    assert_exactly_one_action_per_event(stores, accepted)


@pytest.mark.slow
def test_restarting_redis_mid_stream_loses_nothing(
    settings: Settings, stores: Stores, tmp_path: Path, own_redis: tuple[Path, int]
) -> None:
    from flyte.devserver.embedded import redis_command

    data_dir, port = own_redis
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = Server("redis", redis_command(data_dir, port), port, tmp_path / "r1.log")
    broker = build_broker(replace(settings, redis_url=redis_url))
    prepare(stores)
    workers = WorkerProcesses(worker_env(settings, redis_url), tmp_path / "w.log")
    runtime = PackRuntime(stores, DramatiqQueue(broker), LEASES)
    workers.start()
    accepted: list[str] = []
    refused = 0
    try:
        n = 0
        while len(accepted) < 300:
            if len(accepted) == 100 and redis is not None:
                redis.kill()  # SIGKILL: what AOF had not yet written is lost
                redis = None
            elif refused == 20 and redis is None:
                redis = Server(
                    "redis", redis_command(data_dir, port), port, tmp_path / "r2.log"
                )
            try:
                body = {"event": "Msg", "payload": {"n": n}}
                accepted.append(runtime.post_event("Slack", lambda b=body: b).id)
            except Unavailable:
                refused += 1  # the API answers 503 and keeps nothing
            n += 1
        settle(stores, broker, len(accepted))
    finally:
        workers.stop()
        broker.close()
        if redis is not None:
            redis.stop()
    assert refused >= 20
    assert_exactly_one_action_per_event(stores, accepted)


@pytest.mark.slow
def test_losing_rabbitmq_mid_stream_loses_nothing(
    settings: Settings, stores: Stores, rabbitmq_url: str, tmp_path: Path
) -> None:
    # Given the API and the workers reaching RabbitMQ through a relay
    target = urlsplit(rabbitmq_url)
    relay = Relay((target.hostname or "127.0.0.1", target.port or 5672))
    url = relay.url(rabbitmq_url)
    broker = build_broker(replace(settings, broker_url=url))
    prepare(stores)
    workers = WorkerProcesses(
        worker_env(settings, settings.redis_url, url), tmp_path / "w.log"
    )
    runtime = PackRuntime(stores, DramatiqQueue(broker), LEASES)
    workers.start()
    accepted: list[str] = []
    refused = 0
    try:
        n = 0
        while len(accepted) < 300:
            # When RabbitMQ is cut off after 100 events (every connection
            # dropped, new ones refused), and back after 20 refusals
            if len(accepted) == 100 and refused == 0:
                relay.cut()
            elif refused == 20:
                relay.restore()
            try:
                body = {"event": "Msg", "payload": {"n": n}}
                accepted.append(runtime.post_event("Slack", lambda b=body: b).id)
            except Unavailable:
                refused += 1  # the API answers 503 and keeps nothing
            n += 1
        # Then every accepted event made exactly its one action
        settle(stores, broker, len(accepted))
    finally:
        workers.stop()
        broker.close()
        relay.cut()
    assert refused >= 20
    assert_exactly_one_action_per_event(stores, accepted)
