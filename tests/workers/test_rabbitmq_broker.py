"""FLYTE_BROKER_URL picks the broker; RabbitMQ carries messages and fails fast."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import dramatiq
import pytest
import redis
from dramatiq import Worker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.engine import FlowEngine
from flyte.errors import Unavailable
from flyte.event import Event
from flyte.event import PackRef
from flyte.health import run_checks
from flyte.housekeeping import Housekeeper
from flyte.runtime import Leases
from flyte.store import Stores
from flyte.store.events import EventStatus
from tests.conftest import FakeClock
from tests.conftest import RunningTestContext
from tests.rabbitmq import delete_queues
from workers.actors import declare_actors
from workers.broker import broker_health_checks
from workers.broker import build_broker
from workers.broker import with_rabbitmq_defaults
from workers.queue import DramatiqQueue
from workers.scheduler import jobs

#: The API answers 503 this soon when RabbitMQ refuses connections.
REFUSED_WITHIN_SECONDS = 3.0


@pytest.fixture
def rabbitmq_broker(rabbitmq_url: str) -> Iterator[RabbitmqBroker]:
    """A RabbitMQ broker on the session's virtual host; its test queue deleted after."""
    broker = build_broker(Settings(broker_url=rabbitmq_url))
    assert isinstance(broker, RabbitmqBroker)
    yield broker
    broker.close()
    delete_queues(rabbitmq_url, ("broker_test", "broker_test.DQ", "broker_test.XQ"))


def test_an_amqp_broker_url_selects_rabbitmq() -> None:
    broker = build_broker(Settings(broker_url="amqp://guest:guest@127.0.0.1:1/%2F"))
    assert isinstance(broker, RabbitmqBroker)
    assert broker.confirm_delivery


def test_a_redis_broker_url_selects_redis_on_that_url() -> None:
    url = "redis://127.0.0.1:1/3"
    broker = build_broker(Settings(redis_url="redis://127.0.0.1:2/0", broker_url=url))
    assert isinstance(broker, RedisBroker)
    assert broker.client.connection_pool.connection_kwargs["port"] == 1


def test_without_a_broker_url_the_broker_is_redis_url_s() -> None:
    broker = build_broker(Settings(redis_url="redis://127.0.0.1:2/0"))
    assert isinstance(broker, RedisBroker)
    assert broker.client.connection_pool.connection_kwargs["port"] == 2


def test_rabbitmq_defaults_never_override_the_url_s_own_options() -> None:
    url = with_rabbitmq_defaults("amqp://u:p@h:5672/v?socket_timeout=7&heartbeat=30")
    assert "socket_timeout=7" in url
    assert "heartbeat=30" in url
    assert "connection_attempts=1" in url
    assert url.startswith("amqp://u:p@h:5672/v?")


def test_a_message_sent_through_the_rabbitmq_broker_is_processed(
    rabbitmq_broker: RabbitmqBroker, redis_client: redis.Redis
) -> None:
    @dramatiq.actor(queue_name="broker_test", broker=rabbitmq_broker)
    def mark(key: str) -> None:
        redis_client.set(key, "done")

    # Given a worker on the RabbitMQ broker
    key = f"flyte:test:rabbitmq:{time.monotonic_ns()}"
    worker = Worker(rabbitmq_broker, worker_timeout=100)
    worker.start()
    try:
        # When a message is sent
        mark.send(key)
        deadline = time.monotonic() + 10
        while redis_client.get(key) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        redis_client.delete(key)
    # Then the actor ran on it
    assert time.monotonic() < deadline, "the message was not processed"


def test_sending_to_an_unreachable_rabbitmq_is_unavailable_promptly() -> None:
    # Given a RabbitMQ URL where nothing listens
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    queue = DramatiqQueue(build_broker(Settings(broker_url=url)))
    started = time.monotonic()
    # When the API queues an event, then it learns RabbitMQ is down, soon
    with pytest.raises(Unavailable, match="RabbitMQ is unavailable"):
        queue.send_event("e1")
    assert time.monotonic() - started < REFUSED_WITHIN_SECONDS


def test_sending_to_an_unreachable_redis_broker_names_redis(
    settings: Settings,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    queue = DramatiqQueue(build_broker(replace(settings, broker_url=url)))
    with pytest.raises(Unavailable, match="Redis is unavailable"):
        queue.send_event("e1")


def test_health_checks_rabbitmq_and_says_the_schedulers_need_redis(
    rabbitmq_url: str, settings: Settings
) -> None:
    # Given RabbitMQ as the broker, and a REDIS_URL where nothing listens
    gone = f"redis://127.0.0.1:{free_port()}/0"
    checks = broker_health_checks(
        replace(settings, broker_url=rabbitmq_url, redis_url=gone)
    )
    # When health runs them, then RabbitMQ is ok, and Redis is down with the reason
    results = run_checks(checks)
    assert results["rabbitmq"] == "ok"
    assert results["redis"].startswith("down: ")
    assert "schedulers elect their leader" in results["redis"]


def test_health_names_an_unreachable_rabbitmq(settings: Settings) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    results = run_checks(broker_health_checks(replace(settings, broker_url=url)))
    assert results["rabbitmq"].startswith("down: ")
    assert results["redis"] == "ok"


def test_a_job_the_scheduler_sends_through_rabbitmq_runs_on_a_worker(
    rabbitmq_url: str, stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    # Given the actors on a RabbitMQ broker, and an event stored long ago whose
    # message never reached the broker
    broker = build_broker(Settings(broker_url=rabbitmq_url))
    housekeeper = Housekeeper(
        stores, DramatiqQueue(broker), Leases(30, 2), timedelta(seconds=60), clock=clock
    )
    context = RunningTestContext()
    context.install(engine, housekeeper)
    declare_actors(broker, context)
    stores.events.add(
        Event("lost", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    clock.advance(seconds=61)
    worker = Worker(broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        # When the scheduler sends the recovery job
        [send] = [
            s for job, _, s in jobs(Settings(), broker) if job == "recover_events"
        ]
        send()
        # Then a worker ran it, and the event it queued again was processed
        deadline = time.monotonic() + 15
        while stores.events.get("lost").status is not EventStatus.PROCESSED:
            assert time.monotonic() < deadline, "the recovered event was not processed"
            time.sleep(0.05)
    finally:
        worker.stop()
        broker.close()
