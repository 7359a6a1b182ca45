"""Idempotent event ingest: the ``Idempotency-Key`` request header.

IETF draft "The Idempotency-Key HTTP Header Field": a pack sends a key of its
choosing with an event and the same key with every retry of it. The first
request stores and queues the event; a repeat within the window answers with
the same event and does nothing else, whichever API process it reaches, even
when the first one died after storing the event and before answering.

The key's record is claimed *before* the event is stored (see
``flyte/store/idempotency.py``), so every crash point leaves something a retry
can finish: a claim without an event, an event not yet queued, or a finished
record. Finishing twice is harmless: the event is stored once under its id, and
the engine handles a queued event id once, however often it is delivered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flyte.clock import new_id
from flyte.errors import FlyteError
from flyte.errors import IdempotencyKeyInFlight
from flyte.errors import IdempotencyKeyReused
from flyte.errors import InvalidIdempotencyKey
from flyte.errors import Problem
from flyte.event import Event
from flyte.queue import WorkQueue
from flyte.store import Stores
from flyte.store.idempotency import KeyRecord
from flyte.store.idempotency import KeyState
from flyte.store.idempotency import key_record_id

logger = logging.getLogger(__name__)

#: The request header (IETF draft "The Idempotency-Key HTTP Header Field").
HEADER = "Idempotency-Key"
#: The longest key accepted, in characters (a UUID has 36).
MAX_KEY_LENGTH = 255
#: How long a claim may go unfinished before a retry takes it over, presuming
#: the API process that made it died. Taking over a claim that is still alive
#: only queues the event twice, which the engine absorbs, so this is short.
IN_FLIGHT_LEASE = timedelta(seconds=2)
#: RFC 8941 sf-string: printable ASCII in double quotes, \" and \\ escaped.
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_SF_ESCAPE = re.compile(r"\\([\"\\])")
#: A bare key: visible ASCII without double quotes (a UUID, a token).
_BARE_KEY = re.compile(r"[\x21\x23-\x7e]+")


@dataclass(frozen=True)
class IdempotencyKey:
    """A request's key, with the media type its body was sent as."""

    value: str
    media_type: str = "application/json"

    @classmethod
    def parse(cls, header: str, content_type: str | None = None) -> IdempotencyKey:
        """Read the header: an sf-string (``"..."``) or a bare token; else 400."""
        media_type = (content_type or "").split(";")[0].strip().lower()
        return cls(_key_value(header.strip(" \t")), media_type)

    def fingerprint(self, body: Any) -> str:
        """SHA-256 of the media type and the body in canonical JSON."""
        canonical = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        text = f"{self.media_type}\n{canonical}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key_value(raw: str) -> str:
    if match := _SF_STRING.fullmatch(raw):
        key = _SF_ESCAPE.sub(r"\1", match.group(1))
    elif _BARE_KEY.fullmatch(raw):
        key = raw
    else:
        raise _invalid(
            'must be a quoted string ("...") of printable ASCII, '
            "or a token without spaces or quotes"
        )
    if not key:
        raise _invalid("must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _invalid(f"is {len(key)} characters long; at most {MAX_KEY_LENGTH}")
    return key


def _invalid(message: str) -> InvalidIdempotencyKey:
    return InvalidIdempotencyKey([Problem(HEADER, message)])


class KeyedIngest:
    """Store and queue an event at most once per (pack, Idempotency-Key)."""

    def __init__(
        self,
        stores: Stores,
        queue: WorkQueue,
        window: timedelta,
        *,
        make_id: Callable[[], str] = new_id,
    ) -> None:
        self._events = stores.events
        self._keys = stores.idempotency
        self._queue = queue
        self._window = window
        self._make_id = make_id

    def accept(
        self, event: Event, key: IdempotencyKey, body: Any, now: datetime
    ) -> Event:
        """Store and queue ``event``, or answer with the key's earlier event.

        Raises IdempotencyKeyReused (the key came with another body) or
        IdempotencyKeyInFlight (its first request is still being handled).
        A failure keeps what was stored, and a retry with the key finishes it.
        """
        record = self._claim(event, key, key.fingerprint(body), now)
        event = dataclasses.replace(event, id=record.event_id)
        if record.state is KeyState.DONE:
            return event
        try:
            self._events.add(event, now)
            self._queue.send_event(event.id)
        except Exception:
            # Best effort: if this fails too, the claim lapses after the lease.
            with suppress(FlyteError):
                self._keys.release(record)
            raise
        self._keys.complete(record)
        return event

    def _claim(
        self, event: Event, key: IdempotencyKey, fingerprint: str, now: datetime
    ) -> KeyRecord:
        """The key's record, claimed by this request unless it is DONE."""
        claim = self._make_id()
        candidate = KeyRecord(
            id=key_record_id(event.pack.id, key.value),
            pack_id=event.pack.id,
            key=key.value,
            fingerprint=fingerprint,
            event_id=event.id,
            state=KeyState.IN_FLIGHT,
            claim=claim,
            claimed_at=now,
            created_at=now,
        )
        record = self._keys.begin(candidate, self._window)
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key.value)
        if record.claim == claim or record.state is KeyState.DONE:
            return record
        if now - record.claimed_at < IN_FLIGHT_LEASE:
            raise IdempotencyKeyInFlight(key.value)
        taken = self._keys.take_over(record, claim, now)
        if taken is None:  # another retry took it over first
            raise IdempotencyKeyInFlight(key.value)
        logger.info(
            "Idempotency-Key %r of pack %s: finishing event %s, whose first "
            "request did not finish",
            key.value,
            event.pack.id,
            record.event_id,
        )
        return taken
