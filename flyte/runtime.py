"""What packs do at run time: post events, take actions, post results.

Every call first records contact from the pack (``lastSeen``), as upstream does,
even when the body then turns out to be malformed; the write itself happens at
most every ``CONTACT_INTERVAL`` per pack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flyte.action import Action
from flyte.clock import derived_id
from flyte.clock import new_id
from flyte.clock import utcnow
from flyte.config import DEFAULT_IDEMPOTENCY_WINDOW_SECONDS
from flyte.errors import ActionNotPending
from flyte.errors import FlyteError
from flyte.event import Event
from flyte.event import parse_event
from flyte.idempotency import IdempotencyKey
from flyte.idempotency import KeyedIngest
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.pack import Pack
from flyte.queue import WorkQueue
from flyte.store import Stores
from flyte.store.monitoring import ACCEPT
from flyte.store.monitoring import RESULT
from flyte.store.monitoring import TAKE
from flyte.store.monitoring import counting_stage

logger = logging.getLogger(__name__)

#: How often a pack's ``lastSeen`` is written at most (per pack and API process).
CONTACT_INTERVAL = timedelta(seconds=5)
#: How long an Idempotency-Key is remembered, unless configured.
DEFAULT_KEY_WINDOW = timedelta(seconds=DEFAULT_IDEMPOTENCY_WINDOW_SECONDS)
#: Reads and decodes a request body; called after the pack's contact is recorded,
#: so even a malformed body refreshes ``lastSeen``, as upstream.
BodyReader = Callable[[], Any]


@dataclass(frozen=True)
class Leases:
    """How long a taken action may stay PENDING, and how often it is handed out."""

    seconds: int
    max_attempts: int


class PackRuntime:
    """The pack-facing operations, with delivery guarantees.

    An event is stored before it is queued, and answered 202 only once both
    happened; if queuing fails the stored copy is removed and the caller gets an
    error, so a 202 never hides an event that could be lost. An event posted
    with an Idempotency-Key is kept instead, for the retry with the key to
    finish (``flyte/idempotency.py``).
    """

    def __init__(
        self,
        stores: Stores,
        queue: WorkQueue,
        leases: Leases,
        *,
        clock: Callable[[], datetime] = utcnow,
        make_id: Callable[[], str] = new_id,
        metrics: Metrics | None = None,
        key_window: timedelta = DEFAULT_KEY_WINDOW,
    ) -> None:
        self._stores = stores
        self._queue = queue
        self._leases = leases
        self._clock = clock
        self._make_id = make_id
        self._metrics = metrics or get_metrics()
        self._contacts: dict[str, tuple[datetime, Pack]] = {}
        self._contacts_lock = threading.Lock()
        self._keyed = KeyedIngest(stores, queue, key_window, make_id=make_id)

    def post_event(
        self, pack_id: str, read_body: BodyReader, key: IdempotencyKey | None = None
    ) -> Event:
        """Accept an event a pack saw; it is stored and queued when this returns.

        With an Idempotency-Key, a repeat answers with the first request's event
        and stores nothing (``flyte/idempotency.py``).
        """
        with counting_stage(ACCEPT), self._metrics.counting_event("event"):
            now = self._clock()
            pack = self._contact(pack_id, now)
            body = read_body()
            event = parse_event(body, self._make_id(), pack.ref(), now)
            if key is not None:
                return self._keyed.accept(event, key, body, now)
            self._stores.events.add(event, now)
            self._queue_or_forget(event.id, forget=True)
        return event

    def take(self, pack_id: str, command: str | None) -> Action | None:
        """Hand the pack its oldest waiting action (NEW -> PENDING), or None."""
        with counting_stage(TAKE):
            now = self._clock()
            pack = self._contact(pack_id, now)
            lease_until = now + timedelta(seconds=self._leases.seconds)
            action = self._stores.actions.take_next(pack, command, now, lease_until)
        self._metrics.take_returned(action)
        return action

    def post_result(self, pack_id: str, action_id: str, read_body: BodyReader) -> Event:
        """Finish a PENDING action with the pack's result event, and queue that event.

        The result event's id derives from the action id and its hand-out, so a
        retried request finds the event it stored before instead of storing a
        second one, while the result of a later hand-out gets an id of its own.
        """
        with counting_stage(RESULT), self._metrics.counting_event("result"):
            return self._post_result(pack_id, action_id, read_body)

    def _post_result(
        self, pack_id: str, action_id: str, read_body: BodyReader
    ) -> Event:
        now = self._clock()
        pack = self._contact(pack_id, now)
        action = self._stores.actions.get_for_pack(action_id, pack)
        result_id = derived_id("result", action.id, str(action.attempts))
        result = parse_event(read_body(), result_id, pack.ref(), now)
        # Refused before anything is stored: a result for an action that is not
        # PENDING is never queued.
        finished = action.finished_with(result, now)
        stored = self._stores.events.add(result, now, action_id=action_id)
        self._queue_or_forget(result.id, forget=stored)
        try:
            self._stores.actions.finish(action, finished)
        except ActionNotPending:
            if stored:
                self._stores.events.delete(result.id)
            raise
        return result

    def register(self, pack: Pack) -> Pack:
        """Store a pack's registration; this process drops its remembered copy."""
        registered = self._stores.packs.register(pack)
        self._forget_contact(pack.id)
        return registered

    def delete_pack(self, pack_id: str) -> None:
        """Remove a pack; its next call through this process gets 404."""
        self._stores.packs.delete(pack_id)
        self._forget_contact(pack_id)

    def _forget_contact(self, pack_id: str) -> None:
        with self._contacts_lock:
            self._contacts.pop(pack_id, None)

    def _contact(self, pack_id: str, now: datetime) -> Pack:
        """Record contact from the pack (``lastSeen``) and return it; 404 if unknown.

        The write happens at most once per ``CONTACT_INTERVAL`` per pack and API
        process: pack status thresholds are minutes, and under load this saves a
        database round trip on most calls.
        """
        with self._contacts_lock:
            seen = self._contacts.get(pack_id)
        if seen is not None and timedelta(0) <= now - seen[0] < CONTACT_INTERVAL:
            return seen[1]
        pack = self._stores.packs.touch(pack_id, now)
        with self._contacts_lock:
            self._contacts[pack_id] = (now, pack)
        return pack

    def _queue_or_forget(self, event_id: str, *, forget: bool) -> None:
        try:
            self._queue.send_event(event_id)
        except FlyteError:
            if forget:
                self._stores.events.delete(event_id)
            raise
