"""Shared fixtures: real servers for the session, a fresh database per test."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import falcon
import pytest
import redis
import waitress.server
from cheroot import wsgi
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import xq_name
from falcon import testing
from pymongo.database import Database

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.config import parse_mongo_host
from flyte.engine import FlowEngine
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.housekeeping import Housekeeper
from flyte.runtime import Leases
from flyte.store import Stores
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from flyte.store.retention import Retention
from flyte.templating import build_engine
from flyte.templating import template_functions
from tests.deadletters import DeadLetterLab
from tests.oidc import Issuer
from tests.outages import own_redis
from tests.rabbitmq import session_vhost
from tests.servers import start_mongo
from tests.servers import start_redis
from workers.actors import declare_actors
from workers.broker import build_broker
from workers.queue import DramatiqQueue

#: The tests' fixed clock lies in the past: nothing may expire under them (nx-27017
#: purges expired documents lazily on reads). tests/flyte/store/test_retention.py
#: sets its own retention.
KEEP_EVERYTHING = Retention(*(timedelta(days=20000),) * 3)


#: Test processes when each starts its own servers. Most tests wait on servers,
#: not on the CPU, so even a 2-core machine gains from more than 2.
TEST_PROCESSES = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: parallel with servers of its own, serial on shared ones.

    Tests on servers named by FLYTE_MGO_HOST or REDIS_URL share Dramatiq's
    queues there, and each test empties them, so those runs stay serial.
    """
    shared = os.environ.get("FLYTE_MGO_HOST") or os.environ.get("REDIS_URL")
    return 0 if shared else TEST_PROCESSES


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the slow end-to-end tests first, so the quick ones fill around them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class FakeClock:
    """A settable clock, injected wherever code asks for the time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward by a ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


@pytest.fixture
def oidc_issuer() -> Iterator[Issuer]:
    """A local OIDC issuer (discovery + JWKS) on a free port, with one RSA key."""
    issuer = Issuer()
    yield issuer
    issuer.stop()


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


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this session's own; skips when none answers."""
    with session_vhost() as url:
        yield url


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest, session_settings: Settings) -> str:
    """Each broker in turn: the session's Redis, then RabbitMQ (if reachable)."""
    if request.param == "redis":
        return session_settings.redis_url
    url: str = request.getfixturevalue("rabbitmq_url")
    return url


@pytest.fixture
def killable_redis_url(
    broker_url: str, session_settings: Settings, tmp_path: Path
) -> Iterator[str]:
    """REDIS_URL for tests that SIGKILL workers: a Redis of the test's own when
    Redis is the broker, because the killed workers' fetched messages stay there
    until Dramatiq's heartbeat expires (60 s), and a later test waiting for the
    session's queues to drain would wait on them too. Else the session's Redis.
    """
    if broker_url != session_settings.redis_url:
        yield session_settings.redis_url
        return
    with own_redis(tmp_path / "own-redis") as server:
        yield server.url


@pytest.fixture
def settings(session_settings: Settings) -> Settings:
    """Per-test settings with a database name of its own."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    return Settings(**{**session_settings.__dict__, "mongo_database": database})


@pytest.fixture
def db(settings: Settings) -> Iterator[Database[dict[str, Any]]]:
    """A fresh, indexed database, dropped after the test."""
    database = connect(settings)
    ensure_indexes(database, KEEP_EVERYTHING)
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
    queue: DramatiqQueue,
    redis_client: redis.Redis,
    clock: FakeClock,
) -> testing.TestClient:
    """An HTTP client of the app wired to the real test servers."""
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(stores=stores, queue=queue, health_checks=checks, clock=clock)
    return testing.TestClient(
        create_app(settings, deps), headers={"Host": "example.com"}
    )


class RunningTestContext:
    """The actors' engine and housekeeper: those of the test whose worker runs now."""

    def __init__(self) -> None:
        self._engine: FlowEngine | None = None
        self._housekeeper: Housekeeper | None = None

    @property
    def engine(self) -> FlowEngine:
        """The running test's engine."""
        assert self._engine is not None, "no worker fixture is running"
        return self._engine

    @property
    def housekeeper(self) -> Housekeeper:
        """The running test's housekeeper."""
        assert self._housekeeper is not None, "no worker fixture is running"
        return self._housekeeper

    def install(
        self, engine: FlowEngine | None, housekeeper: Housekeeper | None
    ) -> None:
        """Run the actors on these (``None``: on nothing, between tests)."""
        self._engine = engine
        self._housekeeper = housekeeper


@pytest.fixture(scope="session")
def actor_context() -> RunningTestContext:
    """What the session broker's actors run on; the ``worker`` fixture fills it."""
    return RunningTestContext()


@pytest.fixture(scope="session")
def broker(
    session_settings: Settings, actor_context: RunningTestContext
) -> Iterator[RedisBroker]:
    """The Dramatiq broker on the session's Redis, with every actor declared on it."""
    broker = build_broker(session_settings)
    declare_actors(broker, actor_context)
    yield broker
    broker.close()


@pytest.fixture
def queue(broker: RedisBroker) -> Iterator[DramatiqQueue]:
    """The real Redis-backed work queue, emptied after the test."""
    yield DramatiqQueue(broker)
    broker.flush_all()


@pytest.fixture
def dead_letters(settings: Settings) -> Iterator[DeadLetterLab]:
    """A broker in a Redis namespace of its own whose actor fails on demand."""
    lab = DeadLetterLab(settings.redis_url)
    yield lab
    lab.close()


@pytest.fixture
def leases() -> Leases:
    """Short leases, so tests can watch them expire."""
    return Leases(seconds=30, max_attempts=2)


@pytest.fixture
def engine(settings: Settings, stores: Stores, clock: FakeClock) -> FlowEngine:
    """The flow engine on the test database, with ``datastore()`` reading it."""
    return FlowEngine(
        stores,
        build_engine(settings),
        clock=clock,
        functions=template_functions(stores.datastore),
    )


@pytest.fixture
def housekeeper(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> Housekeeper:
    """The periodic repairs on the test database."""
    return Housekeeper(stores, queue, leases, timedelta(seconds=60), clock=clock)


@pytest.fixture
def worker(
    broker: RedisBroker,
    actor_context: RunningTestContext,
    engine: FlowEngine,
    housekeeper: Housekeeper,
) -> Iterator[Worker]:
    """A Dramatiq worker (threads in this process) consuming the real Redis broker."""
    actor_context.install(engine, housekeeper)
    worker = Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()
    actor_context.install(None, None)


@pytest.fixture
def live_api(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    redis_client: redis.Redis,
    worker: Worker,
) -> Iterator[str]:
    """The app served over real HTTP on a free port, a worker processing its events.

    Yields the API's root URL. Packs and the CLI talk to it as to a real server.
    """
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(stores=stores, queue=queue, health_checks=checks)
    with serve(create_app(settings, deps)) as url:
        yield url


@contextmanager
def serve(app: falcon.App) -> Iterator[str]:
    """Serve ``app`` with cheroot on a free port in a thread; yields its root URL."""
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=8)
    # The accept loop notices stop() only at this interval (0.5 s by default).
    server.expiration_interval = 0.05
    server.prepare()
    url = f"http://127.0.0.1:{server.bind_addr[1]}"
    with _running_in_thread(url, server.serve, server.stop):
        yield url


@contextmanager
def serve_on_waitress(app: falcon.App) -> Iterator[str]:
    """Serve ``app`` with waitress, as ``python -m api`` does; yields its root URL."""
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    url = f"http://127.0.0.1:{server.effective_port}"
    with _running_in_thread(url, server.run, server.close):
        yield url


@contextmanager
def _running_in_thread(
    url: str, run: Callable[[], object], stop: Callable[[], object]
) -> Iterator[str]:
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        stop()
        thread.join(timeout=5)


def drain(broker: RedisBroker, worker: Worker) -> None:
    """Wait until every queued message is processed; fail if any was dead-lettered."""
    for queue_name in ("events", "housekeeping"):
        broker.join(queue_name, interval=10, timeout=20_000)
    worker.join()
    for queue_name in ("events", "housekeeping"):
        dead = broker.client.zcard(f"{broker.namespace}:{xq_name(queue_name)}")
        assert dead == 0, f"{dead} message(s) of {queue_name} failed; see the log"
