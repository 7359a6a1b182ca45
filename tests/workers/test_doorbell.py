"""The doorbell: an idle Redis consumer wakes when a message is queued (real Redis)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from workers.broker import build_redis_broker
from workers.doorbell import DoorbellConsumer
from workers.doorbell import bell_key
from workers.inspection import RedisQueueInspector

#: Longer than any wake-up should take, so a consumer that only polled would
#: visibly wait it out.
IDLE_TIMEOUT_MS = 3000
QUEUE = f"doorbell_test_{free_port()}"


@pytest.fixture
def broker(settings: Settings) -> Iterator[RedisBroker]:
    """A Redis broker on the session's Redis, with its test queue emptied after."""
    broker = build_redis_broker(settings.broker)
    yield broker
    broker.flush(QUEUE)
    broker.client.delete(bell_key(broker, QUEUE))
    broker.close()


def message(text: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=QUEUE, actor_name="noop", args=(text,), kwargs={}, options={}
    )


def next_message(consumer: Any) -> tuple[Any, float]:
    """The consumer's next message, and the seconds it took (skipping idle Nones)."""
    start = time.monotonic()
    while True:
        found = next(consumer)
        if found is not None:
            return found, time.monotonic() - start


def test_an_idle_consumer_wakes_when_a_message_is_queued(broker: RedisBroker) -> None:
    broker.declare_queue(QUEUE)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=IDLE_TIMEOUT_MS)
    assert isinstance(consumer, DoorbellConsumer)
    # As after a quiet spell: a polling consumer would now sleep 1.5 to 3 s.
    consumer.misses = 30
    threading.Timer(0.3, lambda: broker.enqueue(message("hello"))).start()
    found, waited = next_message(consumer)
    assert found.args == ("hello",)
    # Woken by the ring about 0.3 s in.
    assert waited < 1.0
    consumer.ack(found)
    consumer.close()


def test_rings_while_busy_leave_one_entry(broker: RedisBroker) -> None:
    broker.declare_queue(QUEUE)
    for n in range(5):
        broker.enqueue(message(str(n)))
    assert broker.client.llen(bell_key(broker, QUEUE)) == 1


def test_a_delayed_message_does_not_ring(broker: RedisBroker) -> None:
    broker.declare_queue(QUEUE)
    broker.enqueue(message("later"), delay=60_000)
    assert broker.client.llen(bell_key(broker, QUEUE)) == 0


def test_the_queue_view_never_shows_a_bell_as_a_queue(broker: RedisBroker) -> None:
    broker.declare_queue(QUEUE)
    broker.enqueue(message("ring"))
    names = {depth.name for depth in RedisQueueInspector(broker).depths()}
    assert QUEUE in names
    assert names.isdisjoint({f"{QUEUE}.bell", f"__bells__.{QUEUE}"})
