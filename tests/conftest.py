"""Shared fixtures: real servers for the session, a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
import redis
from falcon import testing
from pymongo.database import Database

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.config import parse_mongo_host
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.store import Stores
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from tests.servers import start_mongo
from tests.servers import start_redis


class FakeClock:
    """A settable clock, injected wherever code asks for the time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward by a ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings for the session servers (started here unless the env names them)."""
    data_dir = tmp_path_factory.mktemp("servers")
    mongo_host, mongo = start_mongo(data_dir)
    redis_url, redis_server = start_redis(data_dir)
    mongo_uri, _ = parse_mongo_host(mongo_host)
    yield Settings(
        mongo_uri=mongo_uri,
        mongo_database="flyte_test",
        redis_url=redis_url,
        data_dir=str(data_dir),
    )
    for server in (mongo, redis_server):
        if server is not None:
            server.stop()


@pytest.fixture
def settings(session_settings: Settings) -> Settings:
    """Per-test settings with a database name of its own."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    return Settings(**{**session_settings.__dict__, "mongo_database": database})


@pytest.fixture
def db(settings: Settings) -> Iterator[Database[dict[str, Any]]]:
    """A fresh, indexed database, dropped after the test."""
    database = connect(settings)
    ensure_indexes(database)
    yield database
    database.client.drop_database(database.name)
    database.client.close()


@pytest.fixture
def stores(db: Database[dict[str, Any]]) -> Stores:
    """Every store on the test database."""
    return open_stores(db)


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    """A client of the session's Redis."""
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


@pytest.fixture
def clock() -> FakeClock:
    """A fixed clock at a known instant."""
    return FakeClock(datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC))


@pytest.fixture
def client(
    settings: Settings,
    stores: Stores,
    redis_client: redis.Redis,
    clock: FakeClock,
) -> testing.TestClient:
    """An HTTP client of the app wired to the real test servers."""
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(stores=stores, health_checks=checks, clock=clock)
    return testing.TestClient(
        create_app(settings, deps), headers={"Host": "example.com"}
    )
