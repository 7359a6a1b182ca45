"""A Dramatiq broker of its own, on the session's Redis, whose actor fails on demand.

It lives in a namespace of its own, so tests can dead-letter, requeue and count
messages without touching the queues the product's actors use, and so that
cleaning up deletes only its keys.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import redis
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from workers.stored_messages import DeadLetterDetails

#: The lab's queue.
JOBS = "jobs"
#: Seconds a test waits for the worker before failing (generous: CI machines
#: under load).
WAIT_SECONDS = 30.0


class DeadLetterLab:
    """A broker with one actor, ``work(name)``, failing while ``failing`` is set."""

    def __init__(self, redis_url: str) -> None:
        self.namespace = f"lab-{uuid.uuid4().hex[:12]}"
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=redis_url, namespace=self.namespace
        )
        self.broker.add_middleware(DeadLetterDetails())
        self.failing = threading.Event()
        self.failing.set()
        #: Set to make ``work`` wait (to watch it in flight) until it is cleared.
        self.hold = threading.Event()
        self.released = threading.Event()
        self.done: list[str] = []
        self.work = self._declare()

    def _declare(self) -> dramatiq.Actor[[str], None]:
        @dramatiq.actor(
            actor_name="work", queue_name=JOBS, broker=self.broker, max_retries=0
        )
        def work(name: str) -> None:
            if self.hold.is_set():
                self.released.wait(WAIT_SECONDS)
            if self.failing.is_set():
                raise RuntimeError(f"boom {name}")
            self.done.append(name)

        return work

    @property
    def client(self) -> redis.Redis:
        """The broker's Redis client."""
        client: redis.Redis = self.broker.client
        return client

    def dead_count(self) -> int:
        """How many messages of the jobs queue are dead-lettered."""
        return int(self.client.zcard(f"{self.namespace}:{JOBS}.XQ"))

    @contextmanager
    def running(self) -> Iterator[Worker]:
        """A worker consuming the lab's broker while the block runs."""
        worker = Worker(self.broker, worker_timeout=50, worker_threads=1)
        worker.start()
        try:
            yield worker
        finally:
            self.released.set()
            worker.stop()

    def kill(self, *names: str) -> None:
        """Send ``names`` and wait until a running worker dead-letters them all."""
        before = self.dead_count()
        for name in names:
            self.work.send(name)
        wait_until(lambda: self.dead_count() == before + len(names))

    def close(self) -> None:
        """Delete every key of the lab's namespace and close the broker."""
        keys = list(self.client.scan_iter(match=f"{self.namespace}:*", count=500))
        if keys:
            self.client.delete(*keys)
        self.broker.close()
        # RedisBroker.close() leaves its connection pool open.
        self.client.connection_pool.disconnect()


def wait_until(condition: Callable[[], object], seconds: float = WAIT_SECONDS) -> None:
    """Poll ``condition`` until it is true; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the worker"
        time.sleep(0.02)
