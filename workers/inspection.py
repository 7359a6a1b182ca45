"""RedisQueueInspector: the queue seam read straight from Dramatiq's Redis broker keys.

The layout is that of ``dramatiq/brokers/redis/dispatch.lua`` (namespace ``ns``):

- ``ns:<q>``: list of the ready message ids, oldest first;
- ``ns:<q>.msgs``: hash id -> message, ready and fetched-but-unacknowledged ones;
- ``ns:<q>.DQ`` and ``ns:<q>.DQ.msgs``: the same for delayed messages, which workers
  fetch at once and hold until their time comes;
- ``ns:<q>.XQ`` (sorted set by dead-letter time) and ``ns:<q>.XQ.msgs``: dead ones;
- ``ns:__heartbeats__``: sorted set of broker ids by last contact;
- ``ns:__acks__.<broker id>.<q>``: set of the ids a worker fetched and holds.

Every read is paged (LRANGE, ZREVRANGE, HMGET, HSCAN, SCAN): none reads a whole
queue.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from typing import ParamSpec
from typing import TypeVar
from typing import cast

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from dramatiq.common import q_name
from dramatiq.common import xq_name

from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.errors import Conflict
from flyte.errors import NotFound
from flyte.errors import Unavailable
from flyte.queue_inspection import MAX_PAGE_SIZE
from flyte.queue_inspection import MessagePage
from flyte.queue_inspection import MessageState
from flyte.queue_inspection import QueueDepth
from flyte.queue_inspection import QueuedMessage
from flyte.queue_inspection import QueueInspector
from flyte.queue_inspection import WorkerInfo
from workers.messages import DELETE_DEAD_PACKS
from workers.messages import HANDLE_EVENT
from workers.stored_messages import decode_message
from workers.stored_messages import fresh_copy
from workers.stored_messages import queued_message

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: Keys SCAN looks at per round trip while discovering queues, and most round
#: trips per discovery; a discovery is reused for DISCOVERY_SECONDS.
SCAN_BATCH = 1000
MAX_SCAN_CALLS = 200
DISCOVERY_SECONDS = 30.0
#: Flyte's own queues: listed even before anything was sent to them.
FLYTE_QUEUES = frozenset({HANDLE_EVENT.queue_name, DELETE_DEAD_PACKS.queue_name})
#: Most broker processes listed, and in-flight messages listed per process.
MAX_WORKERS = 100
MAX_IN_FLIGHT_SHOWN = 20
#: Dead messages requeued per round trip by ``requeue_all_dead``.
REQUEUE_BATCH = 100
#: Dramatiq's own rule for queue names (``dramatiq.actor``).
_QUEUE_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")
#: Atomically take a message out of a dead-letter queue: only one caller gets it.
_CLAIM_DEAD = """
local score = redis.call("zscore", KEYS[1], ARGV[1])
if not score then return false end
local data = redis.call("hget", KEYS[2], ARGV[1])
redis.call("zrem", KEYS[1], ARGV[1])
redis.call("hdel", KEYS[2], ARGV[1])
if not data then return false end
return {data, score}
"""


def _unavailable_on_redis_error(method: Callable[P, R]) -> Callable[P, R]:
    """Turn a Redis failure into ``Unavailable``, as the API maps it to 503."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as ex:
            raise Unavailable(f"Redis is unavailable ({type(ex).__name__})") from ex

    return wrapper


class RedisQueueInspector:
    """``flyte.queue_inspection.QueueInspector`` for Dramatiq's ``RedisBroker``."""

    def __init__(
        self,
        broker: RedisBroker,
        *,
        known_queues: Iterable[str] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._broker = broker
        self._client: redis.Redis = broker.client
        self._namespace: str = broker.namespace
        self._known = frozenset(known_queues)
        self._clock = clock
        self._claim_dead = self._client.register_script(_CLAIM_DEAD)
        # Queues found by SCAN, and when (time.monotonic()); replaced whole, so
        # the API's threads can share it without a lock.
        self._discovered: tuple[float, frozenset[str]] | None = None

    @_unavailable_on_redis_error
    def depths(self) -> list[QueueDepth]:
        """Every queue declared on the broker or found in Redis, by name."""
        names = sorted(self._queue_names())
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.llen(self._key(name))
            pipe.hlen(self._key(name) + ".msgs")
            pipe.hlen(self._key(dq_name(name)) + ".msgs")
            pipe.zcard(self._key(xq_name(name)))
        counts = pipe.execute()
        return [
            QueueDepth(
                name=name,
                ready=ready,
                delayed=delayed,
                dead=dead,
                in_flight=max(held - ready, 0),
            )
            for name, (ready, held, delayed, dead) in zip(
                names, _chunks(counts, 4), strict=True
            )
        ]

    @_unavailable_on_redis_error
    def messages(
        self, queue: str, state: MessageState, offset: int = 0, limit: int = 50
    ) -> MessagePage:
        """One page of ``queue``'s ready, delayed (unordered) or dead (newest first)."""
        queue = _checked(queue)
        offset = max(offset, 0)
        limit = min(max(limit, 1), MAX_PAGE_SIZE)
        if state is MessageState.READY:
            return self._ready(queue, offset, limit)
        if state is MessageState.DEAD:
            return self._dead(queue, offset, limit)
        if state is MessageState.DELAYED:
            return self._delayed(queue, offset, limit)
        raise ValueError(f"in-flight messages are listed per worker, not by {state}")

    @_unavailable_on_redis_error
    def requeue_dead(self, queue: str, message_id: str) -> bool:
        """Take the message out of the dead letters and enqueue it afresh.

        The take is atomic, so two operators requeueing at once send it once. It
        is then sent with the broker's own ``enqueue`` (middleware included),
        with its retries reset; if that fails, it goes back to the dead letters
        (unless Redis went away in between: then the message is lost, and the
        recovery job still queues a pending event again).
        """
        queue = _checked(queue)
        dead_key = self._key(xq_name(queue))
        claimed = self._claim_dead(
            keys=[dead_key, dead_key + ".msgs"], args=[message_id]
        )
        if not claimed:
            return False
        data, score = claimed
        message = decode_message(data)
        try:
            if message is None:
                raise Conflict(f"message {message_id!r} cannot be decoded; delete it")
            self._broker.enqueue(fresh_copy(message, queue))
        except (redis.RedisError, Conflict):
            self._restore_dead(dead_key, message_id, data, float(score))
            raise
        return True

    @_unavailable_on_redis_error
    def delete_dead(self, queue: str, message_id: str) -> bool:
        """Drop one dead-lettered message for good."""
        dead_key = self._key(xq_name(_checked(queue)))
        pipe = self._client.pipeline(transaction=True)
        pipe.zrem(dead_key, message_id)
        pipe.hdel(dead_key + ".msgs", message_id)
        removed, _ = pipe.execute()
        return bool(removed)

    @_unavailable_on_redis_error
    def requeue_all_dead(self, queue: str) -> int:
        """Requeue the dead letters there were when called, oldest first.

        A requeued message that dies again goes to the end of the dead letters,
        so stopping after the count seen at the start always ends.
        """
        dead_key = self._key(xq_name(_checked(queue)))
        remaining = int(self._client.zcard(dead_key))
        requeued = skipped = 0
        while remaining > 0:
            size = min(remaining, REQUEUE_BATCH)
            batch = cast(
                list[bytes],
                self._client.zrange(dead_key, skipped, skipped + size - 1),
            )
            if not batch:
                break
            for message_id in batch:
                try:
                    requeued += self.requeue_dead(queue, message_id.decode())
                except Conflict:
                    # Undecodable: it stays, first in line; look past it.
                    skipped += 1
            remaining -= len(batch)
        return requeued

    @_unavailable_on_redis_error
    def workers(self) -> list[WorkerInfo]:
        """Broker processes by last heartbeat, each with what it fetched and holds."""
        beats = cast(
            list[tuple[bytes, float]],
            self._client.zrevrange(
                self._key("__heartbeats__"), 0, MAX_WORKERS - 1, withscores=True
            ),
        )
        worker_ids = [worker_id.decode() for worker_id, _ in beats]
        held = self._held_by_worker(worker_ids)
        shown = self._held_messages(held)
        timeout = int(self._broker.heartbeat_timeout)
        now = to_millis(self._clock())
        return [
            WorkerInfo(
                worker_id=worker_id,
                last_heartbeat=from_millis(int(score)),
                alive=now - score < timeout,
                in_flight=shown.get(worker_id, [])[:MAX_IN_FLIGHT_SHOWN],
                in_flight_count=sum(size for _, size in held.get(worker_id, [])),
            )
            for worker_id, (_, score) in zip(worker_ids, beats, strict=True)
        ]

    def _ready(self, queue: str, offset: int, limit: int) -> MessagePage:
        pipe = self._client.pipeline(transaction=True)
        pipe.llen(self._key(queue))
        pipe.lrange(self._key(queue), offset, offset + limit - 1)
        total, ids = pipe.execute()
        found = self._load(self._key(queue) + ".msgs", ids)
        messages = [
            queued_message(i, data, queue, MessageState.READY, None)
            for i, data in found
        ]
        return MessagePage(messages, int(total), offset, limit)

    def _dead(self, queue: str, offset: int, limit: int) -> MessagePage:
        dead_key = self._key(xq_name(queue))
        pipe = self._client.pipeline(transaction=True)
        pipe.zcard(dead_key)
        pipe.zrevrange(dead_key, offset, offset + limit - 1, withscores=True)
        total, entries = pipe.execute()
        died = {message_id: int(score) for message_id, score in entries}
        found = self._load(dead_key + ".msgs", list(died))
        messages = [
            queued_message(i, data, queue, MessageState.DEAD, died[i])
            for i, data in found
        ]
        return MessagePage(messages, int(total), offset, limit)

    def _delayed(self, queue: str, offset: int, limit: int) -> MessagePage:
        # Workers fetch delayed messages at once and hold them until their time,
        # so the hash, not the list, holds them all; HSCAN pages it unordered.
        key = self._key(dq_name(queue)) + ".msgs"
        total = int(self._client.hlen(key))
        entries: list[tuple[bytes, bytes]] = []
        for entry in self._client.hscan_iter(key, count=offset + limit):
            entries.append(entry)
            if len(entries) >= offset + limit:
                break
        messages = [
            queued_message(i, data, queue, MessageState.DELAYED, None)
            for i, data in entries[offset:]
        ]
        return MessagePage(messages, total, offset, limit)

    def _held_by_worker(
        self, worker_ids: list[str]
    ) -> dict[str, list[tuple[str, int]]]:
        """Per broker id, the queues it holds messages of and how many.

        One SCARD per worker and queue (delay queues included), in one round
        trip: no SCAN of the key space.
        """
        pairs = [
            (worker_id, queue)
            for worker_id in worker_ids
            for name in sorted(self._queue_names())
            for queue in (name, dq_name(name))
        ]
        pipe = self._client.pipeline(transaction=False)
        for worker_id, queue in pairs:
            pipe.scard(self._key(f"__acks__.{worker_id}.{queue}"))
        held: dict[str, list[tuple[str, int]]] = {}
        for (worker_id, queue), size in zip(pairs, pipe.execute(), strict=True):
            if size:
                held.setdefault(worker_id, []).append((queue, int(size)))
        return held

    def _held_messages(
        self, held: dict[str, list[tuple[str, int]]]
    ) -> dict[str, list[QueuedMessage]]:
        """Some of each worker's held messages, per queue: two round trips in all."""
        pairs = [(wid, queue) for wid, queues in held.items() for queue, _ in queues]
        pipe = self._client.pipeline(transaction=False)
        for worker_id, queue in pairs:
            acks_key = self._key(f"__acks__.{worker_id}.{queue}")
            pipe.srandmember(acks_key, MAX_IN_FLIGHT_SHOWN)
        picked = [
            (worker_id, queue, ids)
            for (worker_id, queue), ids in zip(pairs, pipe.execute(), strict=True)
            if ids
        ]
        pipe = self._client.pipeline(transaction=False)
        for _, queue, ids in picked:
            pipe.hmget(self._key(queue) + ".msgs", ids)
        shown: dict[str, list[QueuedMessage]] = {}
        for (worker_id, queue, ids), datas in zip(picked, pipe.execute(), strict=True):
            # A held delayed message waits in the worker for its time.
            delayed = queue != q_name(queue)
            state = MessageState.DELAYED if delayed else MessageState.IN_FLIGHT
            shown.setdefault(worker_id, []).extend(
                queued_message(i, data, q_name(queue), state, None)
                for i, data in zip(ids, datas, strict=True)
                if data
            )
        return shown

    def _load(self, hash_key: str, ids: list[bytes]) -> list[tuple[bytes, bytes]]:
        """The stored messages of ``ids`` (HMGET), less those gone meanwhile."""
        if not ids:
            return []
        datas = cast(list[bytes | None], self._client.hmget(hash_key, ids))
        return [(i, data) for i, data in zip(ids, datas, strict=True) if data]

    def _restore_dead(
        self, dead_key: str, message_id: str, data: bytes, score: float
    ) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(dead_key + ".msgs", message_id, data)
        pipe.zadd(dead_key, {message_id: score})
        pipe.execute()

    def _queue_names(self) -> set[str]:
        """Known and declared queues, plus those found in Redis lately."""
        declared = {q_name(name) for name in self._broker.get_declared_queues()}
        return set(self._known) | declared | self._discover()

    def _discover(self) -> frozenset[str]:
        """Queue names from the namespace's keys (SCAN, never KEYS), cached a while.

        SCAN walks the whole key space, so it runs at most every
        ``DISCOVERY_SECONDS`` and for at most ``MAX_SCAN_CALLS`` round trips.
        """
        now = time.monotonic()
        if self._discovered and now - self._discovered[0] < DISCOVERY_SECONDS:
            return self._discovered[1]
        prefix = self._key("")
        names: set[str] = set()
        cursor = 0
        for _ in range(MAX_SCAN_CALLS):
            cursor, keys = cast(
                tuple[int, list[bytes]],
                self._client.scan(cursor, match=prefix + "*", count=SCAN_BATCH),
            )
            for key in keys:
                name = key.decode()[len(prefix) :]
                if not name.startswith("__"):
                    names.add(q_name(name.removesuffix(".msgs")))
            if cursor == 0:
                break
        self._discovered = (now, frozenset(names))
        return self._discovered[1]

    def _key(self, name: str) -> str:
        return f"{self._namespace}:{name}"


def build_inspector(broker: dramatiq.Broker) -> QueueInspector | None:
    """The inspector of ``broker``'s kind; None when there is none for it."""
    if isinstance(broker, RedisBroker):
        return RedisQueueInspector(broker, known_queues=FLYTE_QUEUES)
    return None


def _checked(queue: str) -> str:
    """The canonical queue name; NotFound for what cannot be a Dramatiq queue."""
    if not _QUEUE_NAME.fullmatch(queue) or queue.startswith("__"):
        raise NotFound(f"queue {queue!r} not found")
    return q_name(queue)


def _chunks(values: list[Any], size: int) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(values), size):
        yield tuple(values[start : start + size])
