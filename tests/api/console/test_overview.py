"""The Overview page and the counts console.js polls."""

from __future__ import annotations

import functools
import os
import socket
import uuid

import redis
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.event import FATAL
from flyte.store import Stores
from tests.api.test_runtime import result_path
from tests.api.test_runtime import send
from tests.api.test_runtime import take
from tests.conftest import drain
from workers.leadership import Leadership
from workers.leadership import read_leader
from workers.queue import DramatiqQueue


def test_the_overview_counts_packs_flows_events_and_actions(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    counts = console.simulate_get("/console/overview.json").json["counts"]
    assert counts["packs_total"] == 2
    assert counts["flows"] == 1
    assert counts["events_processed"] == 2
    assert counts["actions_success"] == 1
    assert counts["actions_new"] == 1
    assert counts["health_mongo"] == "ok"


def test_the_overview_page_shows_the_counts_and_health(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    page = console.simulate_get("/console")
    assert page.status_code == 200
    assert 'data-count="actions_success">1<' in page.text
    assert 'id="health"' in page.text
    assert '<script src="/console/static/console.js"></script>' in page.text


def test_without_a_queue_view_the_overview_says_so(client: testing.TestClient) -> None:
    page = client.simulate_get("/console")
    assert "This broker offers no queue view." in page.text
    assert 'data-count="workers_alive">unknown<' in page.text


def test_the_counts_are_not_cached(client: testing.TestClient) -> None:
    result = client.simulate_get("/console/overview.json")
    assert result.status_code == 200
    assert result.headers["Cache-Control"] == "no-store"


def test_the_overview_lists_a_fatal_action_among_the_latest_failures(
    console: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    send(console, "echo hello")
    drain(broker, worker)
    path = result_path(take(console, "Shell"))
    console.simulate_post(path, json={"event": FATAL, "payload": {"error": "boom"}})
    drain(broker, worker)
    page = console.simulate_get("/console").text
    failures = page.split('id="latest-failures"')[1]
    assert "action FATAL" in failures
    assert "flow echo, step ask" in failures


def test_the_overview_names_the_leading_scheduler(
    settings: Settings, stores: Stores, queue: DramatiqQueue, redis_client: redis.Redis
) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks={},
        scheduler_leader=functools.partial(read_leader, redis_client, key),
    )
    client = testing.TestClient(create_app(settings, deps))
    counts = client.simulate_get("/console/overview.json").json["counts"]
    assert counts["scheduler_leader"] == "none"
    assert Leadership(redis_client, key).renew()
    counts = client.simulate_get("/console/overview.json").json["counts"]
    assert counts["scheduler_leader"] == f"{socket.gethostname()}:{os.getpid()}"
    redis_client.delete(key)


def test_the_overview_says_unknown_when_redis_cannot_name_the_leader(
    settings: Settings, stores: Stores, queue: DramatiqQueue
) -> None:
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks={},
        scheduler_leader=functools.partial(read_leader, unreachable),
    )
    client = testing.TestClient(create_app(settings, deps))
    counts = client.simulate_get("/console/overview.json").json["counts"]
    assert counts["scheduler_leader"] == "unknown"
