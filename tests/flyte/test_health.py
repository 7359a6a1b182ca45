"""Health checks answer within their time limit when a server refuses or hangs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from pymongo.database import Database

from flyte.config import Settings
from flyte.health import HealthCheck
from flyte.health import health_redis_client
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.health import run_checks
from flyte.health import within
from flyte.store import connect
from tests.outages import OwnServer
from tests.outages import own_mongo
from tests.outages import own_redis
from tests.timing import finishes_within

#: A short limit keeps these tests quick; the production one is longer.
LIMIT = 0.5
#: What a loaded machine may add to the limit before the answer arrives.
SLACK = 0.5


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[OwnServer]:
    with own_redis(tmp_path) as server:
        yield server


@pytest.fixture
def mongo_server(tmp_path: Path) -> Iterator[OwnServer]:
    with own_mongo(tmp_path) as server:
        yield server


@pytest.fixture
def own_db(
    settings: Settings, mongo_server: OwnServer
) -> Iterator[Database[dict[str, Any]]]:
    """A database on the test's own server, with the app's client settings."""
    db = connect(replace(settings, mongo_uri=mongo_server.url))
    yield db
    db.client.close()


@pytest.fixture
def health_redis(redis_server: OwnServer) -> Iterator[redis.Redis]:
    client = health_redis_client(redis_server.url, LIMIT)
    yield client
    client.close()


def failure_in_time(check: Callable[[], object], limit: float = LIMIT) -> Exception:
    """Run ``check``; it must fail within ``limit``. Returns what it raised."""
    raised: Exception | None = None
    with finishes_within(limit + SLACK):
        try:
            check()
        except Exception as ex:  # noqa: BLE001 - any failure means "down"
            raised = ex
    if raised is None:
        pytest.fail("the check passed")
    return raised


def test_redis_check_passes_when_redis_answers(health_redis: redis.Redis) -> None:
    redis_check(health_redis, LIMIT)()


def test_redis_check_fails_in_time_when_redis_is_stopped(
    redis_server: OwnServer, health_redis: redis.Redis
) -> None:
    redis_server.stop()
    error = failure_in_time(redis_check(health_redis, LIMIT))
    assert "refused" in str(error)


def test_redis_check_fails_in_time_when_redis_hangs(
    redis_server: OwnServer, health_redis: redis.Redis
) -> None:
    check = redis_check(health_redis, LIMIT)
    # Given Redis accepts connections but never answers
    redis_server.hang()
    # Then the check gives up at its limit
    failure_in_time(check)
    # And passes again once Redis is back
    redis_server.resume()
    check()


def test_a_default_redis_client_is_bounded_by_the_check_too(
    redis_server: OwnServer,
) -> None:
    # redis-py's defaults retry with backoff, and wait for an answer for seconds.
    client = redis.Redis.from_url(redis_server.url)
    check = redis_check(client, LIMIT)
    redis_server.hang()
    assert str(failure_in_time(check)) == f"no answer within {LIMIT:g} s"
    redis_server.close()
    failure_in_time(check)
    client.close()


@pytest.mark.parametrize("outage", ["stop", "hang"])
def test_the_health_redis_client_itself_tries_once_within_the_limit(
    redis_server: OwnServer, health_redis: redis.Redis, outage: str
) -> None:
    # Then the ping left behind by a check that gave up ends soon too.
    health_redis.ping()
    getattr(redis_server, outage)()
    error = failure_in_time(health_redis.ping)
    assert isinstance(error, redis.ConnectionError | redis.TimeoutError)


def test_mongo_check_passes_when_mongo_answers(
    own_db: Database[dict[str, Any]],
) -> None:
    mongo_check(own_db, LIMIT)()


def test_mongo_check_fails_in_time_when_mongo_is_stopped(
    mongo_server: OwnServer, own_db: Database[dict[str, Any]]
) -> None:
    check = mongo_check(own_db, LIMIT)
    check()
    mongo_server.stop()
    # Twice: once on the pooled connection, once when no server can be selected.
    failure_in_time(check)
    failure_in_time(check)


def test_mongo_check_fails_in_time_when_mongo_hangs(
    mongo_server: OwnServer, own_db: Database[dict[str, Any]]
) -> None:
    check = mongo_check(own_db, LIMIT)
    check()
    mongo_server.hang()
    failure_in_time(check)
    failure_in_time(check)
    mongo_server.resume()
    check()


def test_a_mongo_check_before_the_first_connection_fails_in_time(
    mongo_server: OwnServer, own_db: Database[dict[str, Any]]
) -> None:
    mongo_server.hang()
    failure_in_time(mongo_check(own_db, LIMIT))


def test_run_checks_answers_within_its_limit_and_names_what_is_down(
    redis_server: OwnServer,
    health_redis: redis.Redis,
    mongo_server: OwnServer,
    own_db: Database[dict[str, Any]],
) -> None:
    # Given Redis is stopped and MongoDB hangs, with checks of the production limit
    checks = {"mongo": mongo_check(own_db), "redis": redis_check(health_redis)}
    redis_server.stop()
    mongo_server.hang()
    # When the checks run with a shorter limit of their own
    with finishes_within(LIMIT + SLACK):
        results = run_checks(checks, LIMIT)
    # Then the answer comes within that limit, and names both
    assert results["mongo"] == f"down: no answer within {LIMIT:g} s"
    assert results["redis"].startswith("down: Error 111")


def test_run_checks_gives_up_on_a_check_that_never_returns() -> None:
    release = threading.Event()

    def stuck() -> None:
        release.wait()

    checks: dict[str, HealthCheck] = {"stuck": stuck, "fine": lambda: None}
    try:
        with finishes_within(LIMIT + SLACK):
            results = run_checks(checks, LIMIT)
    finally:
        release.set()
    assert results == {"stuck": f"down: no answer within {LIMIT:g} s", "fine": "ok"}


def test_run_checks_runs_the_checks_at_once() -> None:
    # Each check waits for the other: run one after the other, neither passes.
    both = threading.Barrier(2, timeout=LIMIT)

    def meet() -> None:
        both.wait()

    checks: dict[str, HealthCheck] = {"a": meet, "b": meet}
    assert run_checks(checks, 2 * LIMIT) == {"a": "ok", "b": "ok"}


def test_within_passes_on_what_the_check_raised() -> None:
    def broken() -> None:
        raise ConnectionError("connection refused")

    with pytest.raises(ConnectionError, match="connection refused"):
        within(LIMIT, broken)()
