"""Group commit: the writes that threads send one collection at once go together.

Each MongoDB command costs the embedded nx-27017 about half a millisecond of CPU
whatever it carries, and a real server a round trip. A ``WriteBatcher`` lets the
first of several concurrent callers send everybody's writes as one unordered
``bulk_write``, while the others wait for it; a caller alone sends at once, so
nothing waits for a timer. Each caller still returns only once its own writes are
stored, so a store's order of writes (and what it promises on a crash) is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

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
#: Most writes sent in one command (MongoDB allows far more; this bounds a
#: batch's latency and its size on the wire).
MAX_BATCH = 64


class InterruptedWrite(PyMongoError):
    """The thread sending a batch was interrupted: the writes may or may not be in."""


@dataclass(eq=False)
class _Submission:
    """One caller's writes, and how they went."""

    ops: Sequence[WriteOp]
    done: bool = False
    #: Per op, its write error (a document with ``code`` and ``errmsg``), or None.
    errors: list[dict[str, Any] | None] = field(default_factory=list)
    failure: BaseException | None = None


class WriteBatcher:
    """Send the concurrent writes of many threads to one collection together."""

    def __init__(self, collection: Collection[Any], max_batch: int = MAX_BATCH) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._ready = threading.Condition()
        self._queue: list[_Submission] = []
        self._sending = False

    def write(self, ops: Sequence[WriteOp]) -> list[dict[str, Any] | None]:
        """Store ``ops``; return each one's write error, or None where it succeeded.

        A failure of the whole command (a lost connection, say) is raised.
        """
        submission = _Submission(ops)
        with self._ready:
            self._queue.append(submission)
        while True:
            with self._ready:
                while self._sending and not submission.done:
                    self._ready.wait()
                if submission.done:
                    break
                self._sending = True
                batch = self._take_batch()
            try:
                self._send(batch)
            finally:
                with self._ready:
                    self._sending = False
                    self._ready.notify_all()
        if submission.failure is not None:
            raise submission.failure
        return submission.errors

    def _take_batch(self) -> list[_Submission]:
        """The oldest submissions, up to the batch size (at least one)."""
        count, size = 0, 0
        for submission in self._queue:
            if count and size + len(submission.ops) > self._max_batch:
                break
            count += 1
            size += len(submission.ops)
        batch = self._queue[:count]
        del self._queue[:count]
        return batch

    def _send(self, batch: list[_Submission]) -> None:
        """One unordered bulk write for the whole batch; each learns its own fate."""
        ops = [op for submission in batch for op in submission.ops]
        errors: dict[int, dict[str, Any]] = {}
        try:
            self._collection.bulk_write(ops, ordered=False)
        except BulkWriteError as ex:
            errors = {error["index"]: error for error in ex.details["writeErrors"]}
        except BaseException as ex:
            # Every waiting caller must learn it. An exception raised into this
            # thread from outside (a worker's time limit) is not theirs.
            failure = (
                ex if isinstance(ex, Exception) else InterruptedWrite(type(ex).__name__)
            )
            for submission in batch:
                submission.failure = failure
                submission.done = True
            raise
        start = 0
        for submission in batch:
            indexes = range(start, start + len(submission.ops))
            submission.errors = [errors.get(index) for index in indexes]
            submission.done = True
            start += len(submission.ops)


def is_duplicate(error: dict[str, Any] | None) -> bool:
    """True when a write failed only because its ``_id`` (or unique key) exists."""
    return error is not None and error.get("code") == DUPLICATE_KEY


def raise_unexpected(errors: Sequence[dict[str, Any] | None]) -> None:
    """Raise the first write error that is not a duplicate key, as pymongo would."""
    for error in errors:
        if error is not None and not is_duplicate(error):
            raise WriteError(error.get("errmsg", ""), error.get("code"), error)
