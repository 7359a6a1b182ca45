"""Periodic repairs: re-queue events whose message was lost, expire action leases."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from flyte.action import Action
from flyte.action import ActionState
from flyte.clock import derived_id
from flyte.clock import utcnow
from flyte.event import FATAL
from flyte.event import Event
from flyte.event import PackRef
from flyte.queue import WorkQueue
from flyte.runtime import Leases
from flyte.store import Stores
from flyte.store.events import EventStatus
from flyte.store.retention import Retention
from flyte.store.retention import purge_expired

logger = logging.getLogger(__name__)

#: Re-queues of one stuck event before it is marked failed (by default).
MAX_RECOVERIES = 5
#: Longest a recovery job keeps re-queueing; it leaves the rest to the next
#: tick. Under a backlog each re-queue is slow, and unbounded jobs piled up on
#: every worker thread and starved the events they were meant to rescue.
RECOVERY_BUDGET = timedelta(seconds=5)


class Housekeeper:
    """The repairs the scheduler runs; each is safe to run twice or concurrently."""

    def __init__(
        self,
        stores: Stores,
        queue: WorkQueue,
        leases: Leases,
        recovery_after: timedelta,
        *,
        retention: Retention | None = None,
        pack_grace: timedelta | None = None,
        max_recoveries: int = MAX_RECOVERIES,
        recovery_budget: timedelta = RECOVERY_BUDGET,
        queued_events: Callable[[], int | None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._stores = stores
        self._queue = queue
        self._leases = leases
        self._recovery_after = recovery_after
        self._retention = retention or Retention()
        self._pack_grace = pack_grace
        self._max_recoveries = max_recoveries
        self._recovery_budget = recovery_budget
        self._queued_events = queued_events
        self._clock = clock

    def purge_expired(self) -> dict[str, int]:
        """Delete data past its retention (nx-27017 has no TTL monitor)."""
        purged = purge_expired(self._stores.db, self._retention, self._clock())
        if any(purged.values()):
            logger.info("purged expired documents: %s", purged)
        return purged

    def delete_dead_packs(self) -> int:
        """Remove packs silent for longer than the grace period (if enabled)."""
        if self._pack_grace is None:
            return 0
        count = self._stores.packs.delete_unseen_since(self._clock() - self._pack_grace)
        logger.info("deleted %d dead pack(s)", count)
        return count

    def recover_events(self) -> int:
        """Queue again each event pending too long (its message was lost).

        An event that keeps failing is given up after ``max_recoveries`` tries
        and marked failed, instead of being re-queued forever. A run stops after
        ``recovery_budget`` and leaves the rest to the next one.

        While event messages still wait in the queue, the workers are behind,
        not short of messages: a stale event's message is most likely among the
        waiting ones. Re-queueing then would only flood the queue and spend the
        events' re-queues, so the run waits for the queue to drain.
        """
        waiting = self._queued_events()
        if waiting:
            logger.info(
                "recovery waits: %d event message(s) still queued for the workers",
                waiting,
            )
            return 0
        stale_before = self._clock() - self._recovery_after
        stale = self._stores.events.find_stale(stale_before)
        started = self._clock()
        for done, event_id in enumerate(stale):
            if self._clock() - started > self._recovery_budget:
                logger.info(
                    "recovery out of time after %d of %d stale event(s);"
                    " the next run goes on",
                    done,
                    len(stale),
                )
                break
            self._recover(event_id, stale_before)
        return len(stale)

    def _recover(self, event_id: str, stale_before: datetime) -> None:
        """Re-queue one stale event, or give it up after its last re-queue."""
        # Jobs can overlap (a slow scan, a backlog of ticks): one whose event
        # another job re-queued since its scan gets 0 and leaves it alone.
        # The wait restarts at the re-queue's own time, not the job's start,
        # or a job started long ago would leave the event stale for the next.
        tries = self._stores.events.note_recovery(
            event_id, self._clock(), stale_before=stale_before
        )
        if tries > self._max_recoveries:
            logger.error("event=%s: still unprocessed, giving up", event_id)
            reason = (
                f"not processed after {self._max_recoveries} re-queues; see the log"
            )
            self._stores.events.finish(event_id, EventStatus.FAILED, [], reason)
        elif tries:
            logger.info("re-queueing event=%s: still pending", event_id)
            self._queue.send_event(event_id)

    def expire_leases(self) -> int:
        """Hand out expired PENDING actions again, or fail them after the last try."""
        expired = self._stores.actions.find_expired_leases(self._clock())
        for action in expired:
            if action.attempts < self._leases.max_attempts:
                self._requeue(action)
            else:
                self._fail(action)
        return len(expired)

    def _requeue(self, action: Action) -> None:
        now = self._clock()
        again = action.moved_to(
            ActionState.NEW, now, lease_expires_at=None, taken_by=None
        )
        if self._stores.actions.replace_if_unchanged(action, again) is not None:
            logger.info(
                "action=%s correlation=%s: lease expired, queued again (try %d of %d)",
                action.id,
                action.correlation_id,
                action.attempts,
                self._leases.max_attempts,
            )

    def _fail(self, action: Action) -> None:
        """FATAL with an explanatory result; the flow continues as for any FATAL."""
        now = self._clock()
        result = _timeout_event(action, self._leases, now)
        failed = action.finished_with(result, now)
        self._stores.events.add(result, now, action_id=action.id)
        if self._stores.actions.replace_if_unchanged(action, failed) is None:
            # The pack's own result arrived first; it wins.
            self._stores.events.delete(result.id)
            return
        logger.warning(
            "action=%s correlation=%s: no result after %d attempts, now FATAL",
            action.id,
            action.correlation_id,
            action.attempts,
        )
        self._queue.send_event(result.id)


def _timeout_event(action: Action, leases: Leases, now: datetime) -> Event:
    pack = action.taken_by or PackRef("", action.pack_name, dict(action.pack_labels))
    return Event(
        # Distinct from the id of a pack's own result, so the two never collide.
        id=derived_id("timeout", action.id, str(action.attempts)),
        name=FATAL,
        pack=pack,
        payload={
            "error": "action timed out: no result within its lease",
            "attempts": action.attempts,
            "leaseSeconds": leases.seconds,
        },
        created_at=now,
        received_at=now,
    )
