"""Group commit of concurrent writes (WriteBatcher), on a real server (nx-27017)."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import InsertOne
from pymongo import MongoClient
from pymongo import ReplaceOne
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import ServerSelectionTimeoutError
from pymongo.errors import WriteError
from pymongo.monitoring import CommandListener
from pymongo.monitoring import CommandStartedEvent

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.store.batching import GroupSender
from flyte.store.batching import ReadBatcher
from flyte.store.batching import WriteBatcher
from flyte.store.batching import is_duplicate
from flyte.store.batching import raise_unexpected

THREADS = 8
WRITES_PER_THREAD = 25


class InsertCounter(CommandListener):
    """Counts the insert and find commands a client sends."""

    def __init__(self) -> None:
        self.inserts = 0
        self.finds = 0

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "insert":
            self.inserts += 1
        elif event.command_name == "find":
            self.finds += 1

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


@pytest.fixture
def counted(
    settings: Settings, db: Database[dict[str, Any]]
) -> Iterator[tuple[Database[dict[str, Any]], InsertCounter]]:
    """The test's database through a client that counts its insert commands."""
    counter = InsertCounter()
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongo_uri, event_listeners=[counter]
    )
    yield client[db.name], counter
    client.close()


def run_threads(target: Any, count: int = THREADS) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a caller hung"


def test_a_lone_write_is_sent_at_once(db: Database[dict[str, Any]]) -> None:
    batcher = WriteBatcher(db["batched"])
    assert batcher.write([InsertOne({"_id": "a", "n": 1})]) == [None]
    assert db["batched"].find_one({"_id": "a"}) == {"_id": "a", "n": 1}


def test_concurrent_writes_are_all_stored_in_fewer_commands(
    counted: tuple[Database[dict[str, Any]], InsertCounter],
) -> None:
    db, counter = counted
    batcher = WriteBatcher(db["batched"])
    results: dict[int, list[Any]] = {}

    def writer(n: int) -> None:
        results[n] = [
            batcher.write([InsertOne({"_id": f"{n}-{i}"})])
            for i in range(WRITES_PER_THREAD)
        ]

    run_threads(writer)
    total = THREADS * WRITES_PER_THREAD
    assert db["batched"].count_documents({}) == total
    assert all(r == [None] for rs in results.values() for r in rs)
    # Writers that met a send in flight went out together with the next one.
    assert counter.inserts < total


def test_each_caller_learns_only_its_own_duplicates(
    db: Database[dict[str, Any]],
) -> None:
    db["batched"].insert_many([{"_id": f"taken-{n}"} for n in range(THREADS)])
    batcher = WriteBatcher(db["batched"])
    results: dict[int, list[Any]] = {}

    def writer(n: int) -> None:
        ops = [InsertOne({"_id": f"new-{n}"}), InsertOne({"_id": f"taken-{n}"})]
        results[n] = batcher.write(ops)

    run_threads(writer)
    for errors in results.values():
        assert errors[0] is None
        assert is_duplicate(errors[1])
    assert db["batched"].count_documents({"_id": {"$regex": "^new-"}}) == THREADS


def test_updates_and_upserts_batch_like_inserts(db: Database[dict[str, Any]]) -> None:
    db["batched"].insert_many([{"_id": f"d{n}", "revision": 1} for n in range(THREADS)])
    batcher = WriteBatcher(db["batched"])

    def writer(n: int) -> None:
        older = {"_id": f"d{n}", "revision": {"$lt": 2}}
        batcher.write([UpdateOne({"_id": f"d{n}"}, {"$set": {"seen": n}})])
        # The replacement names its _id: nx-27017's upsert does not take it
        # from a filter that also holds an operator (MongoDB does).
        newer = {"_id": f"d{n}", "revision": 2, "n": n}
        batcher.write([ReplaceOne(older, newer, upsert=True)])
        # An older revision meets the newer copy: a duplicate, left alone.
        stale = {"_id": f"d{n}", "revision": {"$lt": 1}}
        replacement = {"_id": f"d{n}", "revision": 1}
        [error] = batcher.write([ReplaceOne(stale, replacement, upsert=True)])
        assert is_duplicate(error)

    run_threads(writer)
    docs = sorted(db["batched"].find(), key=lambda d: d["_id"])
    assert docs == [{"_id": f"d{n}", "revision": 2, "n": n} for n in range(THREADS)]


def test_raise_unexpected_ignores_duplicates_only() -> None:
    raise_unexpected([None, {"code": 11000, "errmsg": "dup"}])
    with pytest.raises(WriteError, match="bad"):
        raise_unexpected([None, {"code": 2, "errmsg": "bad"}])


@pytest.mark.parametrize("max_batch", [1, 64])
def test_a_failed_send_reaches_every_waiting_caller(max_batch: int) -> None:
    # Nothing listens on this port: every caller's send must fail, none hang,
    # also when a sender fails on a batch that did not hold its own write.
    client: MongoClient[dict[str, Any]] = MongoClient(
        port=free_port(), serverSelectionTimeoutMS=300
    )
    batcher = WriteBatcher(client["nowhere"]["batched"], max_batch=max_batch)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            batcher.write([InsertOne({"_id": n})])
        except ServerSelectionTimeoutError as ex:
            failures.append(ex)

    run_threads(writer, 4)
    client.close()
    assert len(failures) == 4


def test_concurrent_lookups_each_get_their_own_document_in_fewer_finds(
    counted: tuple[Database[dict[str, Any]], InsertCounter],
) -> None:
    db, counter = counted
    db["batched"].insert_many([{"_id": f"d{n}", "n": n} for n in range(THREADS)])
    reader = ReadBatcher(db["batched"])
    found: dict[int, list[Any]] = {}

    def lookup(n: int) -> None:
        found[n] = [reader.find(f"d{n}") for _ in range(WRITES_PER_THREAD)]
        found[n].append(reader.find(f"missing-{n}"))

    before = counter.finds
    run_threads(lookup)
    for n, docs in found.items():
        assert docs[:-1] == [{"_id": f"d{n}", "n": n}] * WRITES_PER_THREAD
        assert docs[-1] is None
    assert counter.finds - before < THREADS * (WRITES_PER_THREAD + 1)


class SlowEcho(GroupSender[int, int]):
    """Answers each request with itself, slowly, so that others queue behind."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = threading.Event()

    def _send(self, requests: list[int]) -> list[int]:
        self.sending.set()
        time.sleep(0.3)
        return list(requests)


def test_a_waiting_caller_interrupted_from_outside_leaves_no_one_stuck() -> None:
    # A worker's time limit raises an exception inside the thread that waits.
    sender = SlowEcho()
    results: dict[str, Any] = {}

    def call(name: str, value: int) -> None:
        try:
            results[name] = sender.submit([value])
        except TimeoutError as ex:
            results[name] = ex

    first = threading.Thread(target=call, args=("first", 1))
    first.start()
    sender.sending.wait(5)
    waiting = threading.Thread(target=call, args=("interrupted", 2))
    waiting.start()
    time.sleep(0.05)
    ident = ctypes.c_ulong(waiting.ident or 0)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(TimeoutError))
    waiting.join(5)
    first.join(5)
    # Another caller after them is served: nobody holds the turn to send.
    late = threading.Thread(target=call, args=("late", 3))
    late.start()
    late.join(5)
    assert not late.is_alive()
    assert results["first"] == [1]
    assert isinstance(results["interrupted"], TimeoutError)
    assert results["late"] == [3]
