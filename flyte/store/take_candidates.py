"""The oldest waiting actions of each queue, read once and shared by a process's takes.

Takers polling one queue through the same API process would each read the same
oldest actions, then race for the oldest one: every loss a wasted write. Here
one read fills a buffer per queue, and each take claims a different candidate
from it. A claim is not a take: the compare-and-set in ``ActionStore`` still
decides, so a candidate another process took meanwhile is simply skipped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

#: How long a buffer's order is trusted: an action that became waiting since
#: (a new one, or one whose lease expired) is seen after at most this long.
MAX_AGE_SECONDS = 0.1
#: Candidates one read asks for: a lone take as few as before the buffer, more
#: while others are in flight (two per take, so each has one to lose), up to a cap.
MIN_READ = 5
MAX_READ = 16

Document = dict[str, Any]


@dataclass
class _Buffer:
    """One queue's candidates, oldest first, and when they were read."""

    docs: list[Document] = field(default_factory=list)
    read_at: float = float("-inf")


@dataclass(frozen=True)
class Claim:
    """A candidate to try, or None; ``others_left`` when some did not fit the taker."""

    doc: Document | None
    others_left: bool = False


class TakeCandidates:
    """Per queue, candidates for this process's concurrent takes, each claimed once."""

    def __init__(
        self,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._buffers: dict[str, _Buffer] = {}
        #: Per queue, the ids claimed and being tried: a refill read meanwhile
        #: leaves them out, and their number sizes the read.
        self._claimed: dict[str, set[str]] = {}

    def claim(
        self,
        queue: str,
        fits: Callable[[Document], bool],
        read: Callable[[int], list[Document]],
    ) -> Claim:
        """The oldest unclaimed candidate that ``fits``; ``read(n)`` refills the buffer.

        The buffer is read again when it is empty or older than its maximum age.
        """
        with self._lock:
            buffer = self._buffers.setdefault(queue, _Buffer())
            claimed = self._claimed.setdefault(queue, set())
            if not buffer.docs or self._clock() - buffer.read_at > self._max_age:
                wanted = min(MAX_READ, max(MIN_READ, 2 * (len(claimed) + 1)))
                buffer.docs = [d for d in read(wanted) if d["_id"] not in claimed]
                buffer.read_at = self._clock()
            for index, doc in enumerate(buffer.docs):
                if fits(doc):
                    del buffer.docs[index]
                    claimed.add(doc["_id"])
                    return Claim(doc, others_left=bool(buffer.docs))
            return Claim(None, others_left=bool(buffer.docs))

    def release(self, queue: str, doc_id: str) -> None:
        """The claimed candidate was tried (taken or lost): forget the claim."""
        with self._lock:
            self._claimed.get(queue, set()).discard(doc_id)
