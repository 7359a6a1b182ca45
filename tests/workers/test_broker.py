"""The broker wiring: actors bound to the Redis broker built from Settings run."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq import Worker

from flyte.config import Settings
from workers.broker import build_broker


@pytest.fixture
def broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    """A Redis broker on the session's Redis, with its queues emptied after."""
    broker = build_broker(settings)
    yield broker
    broker.flush_all()
    broker.close()


def test_a_message_sent_through_the_redis_broker_is_processed(
    broker: dramatiq.Broker, redis_client: redis.Redis
) -> None:
    @dramatiq.actor(queue_name="broker_test", broker=broker)
    def mark(key: str) -> None:
        redis_client.set(key, "done")

    mark.send("flyte:test:broker")
    worker = Worker(broker, worker_timeout=100)
    worker.start()
    try:
        broker.join("broker_test", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    assert redis_client.get("flyte:test:broker") == b"done"
