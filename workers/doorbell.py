"""A doorbell for the Redis broker: an idle worker wakes when a message is queued.

Dramatiq's Redis consumer polls an empty queue, sleeping longer after each
miss, up to the worker's idle timeout: a message queued after a quiet spell
waits for the next poll, tens of milliseconds. Here each enqueue also rings the
queue's bell (a one-entry Redis list), and an idle consumer waits on the bell
with BLPOP instead of sleeping, so it fetches as soon as the message is there.
The bell only wakes: the message itself is fetched as Dramatiq always does, so
acknowledgement and redelivery are unchanged, and a missed ring costs at most
the idle timeout, as before.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed


def bell_key(broker: RedisBroker, queue_name: str) -> str:
    """The Redis list that rings for ``queue_name``.

    Named like Dramatiq's own bookkeeping (``__heartbeats__``), so the console,
    which finds queues by their keys, never mistakes a bell for a queue.
    """
    return f"{broker.namespace}:__bells__.{queue_name}"


def ring(broker: RedisBroker, queue_name: str) -> None:
    """Ring the queue's bell: one entry, however often it rings before an answer."""
    key = bell_key(broker, queue_name)
    pipe = broker.client.pipeline(transaction=False)
    pipe.lpush(key, 1)
    pipe.ltrim(key, 0, 0)
    pipe.execute()


class DoorbellConsumer(_RedisConsumer):
    """A Redis consumer that waits on its queue's bell when the queue is empty."""

    def __next__(self) -> Any:
        if self.queue_name == dq_name(self.queue_name) or self.message_cache:
            # Delayed messages fall due by time, not by a ring; and cached
            # messages are served without going to Redis.
            return super().__next__()  # type: ignore[no-untyped-call]
        try:
            wanted = self.prefetch - self.outstanding_message_count
            if wanted <= 0:
                return super().__next__()  # type: ignore[no-untyped-call]
            self.message_cache = self.broker.do_fetch(self.queue_name, wanted)
            if not self.message_cache:
                self._wait_for_bell()
                return None
        except redis.ConnectionError as ex:
            raise ConnectionClosed(ex) from None  # type: ignore[no-untyped-call]
        return super().__next__()  # type: ignore[no-untyped-call]

    def _wait_for_bell(self) -> None:
        """Block until the bell rings, or the idle timeout passes."""
        key = bell_key(self.broker, self.queue_name)
        self.broker.client.blpop([key], timeout=self.timeout / 1000)


class DoorbellRedisBroker(RedisBroker):
    """Dramatiq's Redis broker, whose consumers wait on a bell when idle."""

    @property
    def consumer_class(self) -> type[DoorbellConsumer]:
        """Dramatiq builds each queue's consumer from this class."""
        return DoorbellConsumer


class Doorbell(dramatiq.Middleware):
    """Ring a queue's bell after each message queued for now (not delayed)."""

    def after_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: Any
    ) -> None:
        """Wake an idle consumer of the message's queue."""
        if delay is None and isinstance(broker, RedisBroker):
            ring(broker, message.queue_name)
