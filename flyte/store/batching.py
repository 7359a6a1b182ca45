"""Group commit: what threads send one collection at once goes in one command.

Each MongoDB command costs the embedded nx-27017 about half a millisecond of CPU
whatever it carries, and a real server a round trip. The first of several
concurrent callers sends everybody's requests as one command, while the others
wait for it; a caller alone sends at once, so nothing waits for a timer. Each
caller still returns only once its own requests are done, so a store's order of
writes (and what it promises on a crash) is kept.

``WriteBatcher`` sends writes as one unordered ``bulk_write``; ``ReadBatcher``
looks documents up by ``_id`` with one ``$in`` query (which nx-27017 answers
through its ``_id`` column, unlike ``$in`` on other fields).
"""

from __future__ import annotations

import threading
from abc import ABC
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Generic
from typing import TypeVar

from pymongo import InsertOne
from pymongo import ReplaceOne
from pymongo import UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError
from pymongo.errors import PyMongoError
from pymongo.errors import WriteError

from flyte.store.mongo import DUPLICATE_KEY

#: The writes a batch may hold: one ``bulk_write`` of these per collection.
WriteOp = InsertOne[Any] | UpdateOne | ReplaceOne[Any]
#: A write's error (a document with ``code`` and ``errmsg``), or None.
WriteResult = dict[str, Any] | None
#: Most requests sent in one command (MongoDB allows far more; this bounds a
#: batch's latency and its size on the wire).
MAX_BATCH = 64

Request = TypeVar("Request")
Result = TypeVar("Result")


class InterruptedSend(PyMongoError):
    """The thread sending a batch was interrupted: its requests may be done or not."""


@dataclass(eq=False)
class _Submission(Generic[Request, Result]):
    """One caller's requests, and how they went."""

    requests: Sequence[Request]
    done: bool = False
    results: list[Result] = field(default_factory=list)
    failure: BaseException | None = None
    #: Set when the requests are done, or when this caller is to send next.
    wake: threading.Event = field(default_factory=threading.Event)


class GroupSender(ABC, Generic[Request, Result]):
    """Send the concurrent requests of many threads together, one batch at a time.

    One caller at a time sends; the others wait, each on its own event (not a
    shared condition, which would wake them all after every batch). The sender
    wakes the callers of its batch, then hands over to the oldest one still
    waiting, if any.
    """

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Submission[Request, Result]] = []
        self._sending = False

    def submit(self, requests: Sequence[Request]) -> list[Result]:
        """Send ``requests`` (with others' if any wait); return their results.

        A failure of the whole command (a lost connection, say) is raised.
        """
        submission: _Submission[Request, Result] = _Submission(requests)
        with self._lock:
            self._queue.append(submission)
            waits = self._sending
            self._sending = True
        if waits:
            self._wait(submission)
        while not submission.done:
            # This caller sends now: until its own requests have gone.
            with self._lock:
                batch = self._take_batch()
            try:
                self._send_batch(batch)
            except BaseException:
                self._withdraw(submission)
                self._hand_over()
                raise
            self._hand_over_once_done(submission)
        if submission.failure is not None:
            raise submission.failure
        return submission.results

    def _wait(self, submission: _Submission[Request, Result]) -> None:
        """Wait until done or handed over; an exception raised meanwhile leaves."""
        try:
            submission.wake.wait()
        except BaseException:
            # Raised into this thread from outside (a worker's time limit): take
            # the requests back, and pass on a turn to send if one came.
            with self._lock:
                if submission in self._queue:
                    self._queue.remove(submission)
                handed_over = submission.wake.is_set() and not submission.done
            if handed_over:
                self._hand_over()
            raise

    def _withdraw(self, submission: _Submission[Request, Result]) -> None:
        """Take back requests not sent yet: their caller is leaving with an error."""
        with self._lock:
            if submission in self._queue:
                self._queue.remove(submission)

    def _hand_over_once_done(self, submission: _Submission[Request, Result]) -> None:
        """Hand over if this caller's own requests have gone; else it sends on."""
        if submission.done:
            self._hand_over()

    def _hand_over(self) -> None:
        """Let the oldest waiting caller send next, or note that nobody sends."""
        with self._lock:
            if self._queue:
                self._queue[0].wake.set()
            else:
                self._sending = False

    @abstractmethod
    def _send(self, requests: list[Request]) -> list[Result]:
        """Send these requests in one command; their results, in order."""

    def _take_batch(self) -> list[_Submission[Request, Result]]:
        """The oldest submissions, up to the batch size (at least one)."""
        count, size = 0, 0
        for submission in self._queue:
            if count and size + len(submission.requests) > self._max_batch:
                break
            count += 1
            size += len(submission.requests)
        batch = self._queue[:count]
        del self._queue[:count]
        return batch

    def _send_batch(self, batch: list[_Submission[Request, Result]]) -> None:
        """One command for the whole batch; each submission learns its own fate."""
        try:
            results = self._send([r for s in batch for r in s.requests])
        except BaseException as ex:
            # Every waiting caller must learn it. An exception raised into this
            # thread from outside (a worker's time limit) is not theirs.
            failure = ex if isinstance(ex, Exception) else InterruptedSend(repr(ex))
            for submission in batch:
                submission.failure = failure
                submission.done = True
                submission.wake.set()
            raise
        start = 0
        for submission in batch:
            end = start + len(submission.requests)
            submission.results = results[start:end]
            submission.done = True
            submission.wake.set()
            start = end


class WriteBatcher(GroupSender[WriteOp, WriteResult]):
    """Concurrent writes to one collection, sent as one unordered bulk write."""

    def __init__(self, collection: Collection[Any], max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)
        self._collection = collection

    def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Store ``ops``; return each one's write error, or None where it succeeded."""
        return self.submit(ops)

    def _send(self, requests: list[WriteOp]) -> list[WriteResult]:
        errors: dict[int, dict[str, Any]] = {}
        try:
            self._collection.bulk_write(requests, ordered=False)
        except BulkWriteError as ex:
            errors = {error["index"]: error for error in ex.details["writeErrors"]}
        return [errors.get(index) for index in range(len(requests))]


class ReadBatcher(GroupSender[str, dict[str, Any] | None]):
    """Concurrent lookups by ``_id`` in one collection, sent as one ``$in`` query."""

    def __init__(self, collection: Collection[Any], max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)
        self._collection = collection

    def find(self, doc_id: str) -> dict[str, Any] | None:
        """The document with this ``_id``, or None."""
        [doc] = self.submit([doc_id])
        return doc

    def _send(self, requests: list[str]) -> list[dict[str, Any] | None]:
        if len(requests) == 1:
            # Alone: the plain lookup, as without batching.
            return [self._collection.find_one({"_id": requests[0]})]
        wanted = {"_id": {"$in": sorted(set(requests))}}
        found = {doc["_id"]: doc for doc in self._collection.find(wanted)}
        return [found.get(doc_id) for doc_id in requests]


def is_duplicate(error: WriteResult) -> bool:
    """True when a write failed only because its ``_id`` (or unique key) exists."""
    return error is not None and error.get("code") == DUPLICATE_KEY


def raise_unexpected(errors: Sequence[WriteResult]) -> None:
    """Raise the first write error that is not a duplicate key, as pymongo would."""
    for error in errors:
        if error is not None and not is_duplicate(error):
            raise WriteError(error.get("errmsg", ""), error.get("code"), error)
