"""Periodic repairs on real stores and the real broker: leases and lost messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from flyte.action import Action
from flyte.action import ActionState
from flyte.engine import FlowEngine
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import parse_flow
from flyte.housekeeping import MAX_RECOVERIES
from flyte.housekeeping import Housekeeper
from flyte.pack import Pack
from flyte.runtime import Leases
from flyte.store import Stores
from flyte.store.events import EventStatus
from flyte.store.events import EventStore
from flyte.store.retention import Retention
from templates import TemplateEngine
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.inspectors import build_queue_inspector
from workers.inspectors import queued_events
from workers.queue import DramatiqQueue

FLOW = {
    "name": "f",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "command": {"packName": "Shell", "name": "Run"},
        },
        {
            "id": "on_failure",
            "dependsOn": ["run"],
            "event": {"packName": "Shell", "name": "FATAL"},
            "command": {
                "packName": "Slack",
                "name": "Send",
                "input": "{{ Event.Payload.error }}",
            },
        },
    ],
}


def started_action(stores: Stores, engine: FlowEngine, clock: FakeClock) -> str:
    stores.flows.add(parse_flow(FLOW, TemplateEngine().check_syntax))
    event = Event("e1", "Msg", PackRef("Slack", "Slack"), clock(), clock())
    stores.events.add(event, clock())
    [outcome] = engine.process("e1")
    return outcome.steps[0].action_id


def shell(clock: FakeClock) -> Pack:
    return Pack(id="Shell", name="Shell", last_seen=clock())


def take(stores: Stores, clock: FakeClock, leases: Leases) -> Action | None:
    lease_until = clock() + timedelta(seconds=leases.seconds)
    return stores.actions.take_next(shell(clock), None, clock(), lease_until)


def test_an_expired_lease_hands_the_action_out_again(
    stores: Stores,
    engine: FlowEngine,
    housekeeper: Housekeeper,
    clock: FakeClock,
    leases: Leases,
) -> None:
    action_id = started_action(stores, engine, clock)
    take(stores, clock, leases)
    clock.advance(seconds=leases.seconds - 1)
    assert housekeeper.expire_leases() == 0
    clock.advance(seconds=2)
    assert housekeeper.expire_leases() == 1
    action = stores.actions.get(action_id)
    assert [s.state for s in action.states] == ["NEW", "PENDING", "NEW"]
    assert action.taken_by is None
    again = take(stores, clock, leases)
    assert again.id == action_id and again.attempts == 2


def test_after_the_last_attempt_the_action_fails_and_the_flow_continues(
    stores: Stores,
    engine: FlowEngine,
    housekeeper: Housekeeper,
    clock: FakeClock,
    leases: Leases,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    action_id = started_action(stores, engine, clock)
    for _ in range(leases.max_attempts):
        take(stores, clock, leases)
        clock.advance(seconds=leases.seconds + 1)
        housekeeper.expire_leases()
    failed = stores.actions.get(action_id)
    assert failed.state is ActionState.FATAL
    assert failed.result.payload["error"].startswith("action timed out")
    assert failed.result.payload["attempts"] == leases.max_attempts
    drain(broker, worker)
    [follow_up] = [
        a
        for a in stores.actions.find_by_correlation(failed.correlation_id)
        if a.step_id == "on_failure"
    ]
    assert follow_up.input == "action timed out: no result within its lease"


def test_a_result_that_wins_the_race_against_expiry_is_kept(
    stores: Stores,
    engine: FlowEngine,
    housekeeper: Housekeeper,
    clock: FakeClock,
    leases: Leases,
) -> None:
    action_id = started_action(stores, engine, clock)
    taken = take(stores, clock, leases)
    stale = taken
    for _ in range(leases.max_attempts - 1):
        clock.advance(seconds=leases.seconds + 1)
        housekeeper.expire_leases()
        stale = take(stores, clock, leases)
    clock.advance(seconds=leases.seconds + 1)
    [expired] = stores.actions.find_expired_leases(clock())
    result = Event("r", "Output", PackRef("Shell", "Shell"), clock(), clock())
    taken = stores.actions.get(action_id)
    stores.actions.finish(taken, taken.finished_with(result, clock()))
    housekeeper._fail(expired)  # the expiry that lost the race
    assert stores.actions.get(action_id).state is ActionState.SUCCESS
    assert stale.attempts == leases.max_attempts
    assert stores.db["event"].count_documents({"actionId": action_id}) == 0


def test_an_event_whose_message_was_lost_is_processed_after_recovery(
    stores: Stores,
    housekeeper: Housekeeper,
    clock: FakeClock,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    stores.flows.add(parse_flow(FLOW, TemplateEngine().check_syntax))
    # Stored, but its message never reached Redis:
    stores.events.add(
        Event("lost", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    assert housekeeper.recover_events() == 0
    clock.advance(seconds=61)
    assert housekeeper.recover_events() == 1
    drain(broker, worker)
    assert stores.events.get("lost").status is EventStatus.PROCESSED
    assert take(stores, clock, Leases(30, 2)) is not None


def test_an_event_that_never_gets_processed_is_given_up_after_a_few_recoveries(
    stores: Stores, housekeeper: Housekeeper, clock: FakeClock
) -> None:
    stores.events.add(
        Event("stuck", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    for _ in range(MAX_RECOVERIES + 1):
        clock.advance(seconds=61)
        housekeeper.recover_events()
    record = stores.events.get("stuck")
    assert record.status is EventStatus.FAILED
    assert "re-queues" in record.reason


def test_recovery_waits_while_event_messages_still_wait_in_the_queue(
    stores: Stores,
    queue: DramatiqQueue,
    leases: Leases,
    clock: FakeClock,
    broker: RedisBroker,
) -> None:
    # Given workers so far behind that a queued event's message is older than
    # the recovery window
    housekeeper = Housekeeper(
        stores,
        queue,
        leases,
        timedelta(seconds=60),
        queued_events=queued_events(build_queue_inspector(broker)),
        clock=clock,
    )
    stores.events.add(
        Event("behind", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    queue.send_event("behind")
    # When recovery runs again and again, it neither floods the queue nor
    # spends the event's re-queues
    for _ in range(MAX_RECOVERIES + 1):
        clock.advance(seconds=61)
        assert housekeeper.recover_events() == 0
    assert stores.events.get("behind").status is EventStatus.PENDING
    assert broker.client.llen("dramatiq:events") == 1
    # Then once the queue is empty and the event still waits, its message
    # was lost, and recovery queues it again
    broker.flush("events")
    assert housekeeper.recover_events() == 1
    assert broker.client.llen("dramatiq:events") == 1


class OverlappedEventStore(EventStore):
    """Runs another recovery job between this job's scan and its re-queues."""

    def __init__(self, stores: Stores, other_job: Callable[[], object]) -> None:
        super().__init__(stores.db)
        self._other_job = other_job

    def find_stale(self, before: datetime, limit: int = 500) -> list[str]:
        stale = super().find_stale(before, limit)
        self._other_job()
        return stale


def test_overlapping_recovery_jobs_requeue_a_stale_event_once(
    stores: Stores,
    queue: DramatiqQueue,
    leases: Leases,
    housekeeper: Housekeeper,
    clock: FakeClock,
) -> None:
    # Given a stale event, and a second recovery job that runs between the
    # first job's scan and its re-queues (the soak saw this under a backlog)
    stores.events.add(
        Event("lost", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    overlapped = dataclasses.replace(
        stores, events=OverlappedEventStore(stores, housekeeper.recover_events)
    )
    first_job = Housekeeper(
        overlapped, queue, leases, timedelta(seconds=60), clock=clock
    )
    clock.advance(seconds=61)
    # When both run
    first_job.recover_events()
    # Then the event was re-queued once, and has its other re-queues left
    doc = stores.db["event"].find_one({"_id": "lost"})
    assert doc is not None
    assert (doc["status"], doc["recoveries"]) == ("pending", 1)


class SlowScanEventStore(EventStore):
    """An event store whose stale scan takes ``seconds`` of the fake clock."""

    def __init__(self, stores: Stores, clock: FakeClock, seconds: float) -> None:
        super().__init__(stores.db)
        self._clock = clock
        self._seconds = seconds

    def find_stale(self, before: datetime, limit: int = 500) -> list[str]:
        stale = super().find_stale(before, limit)
        self._clock.advance(seconds=self._seconds)
        return stale


def test_a_slow_recovery_job_restarts_the_wait_at_the_requeue_time(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> None:
    # Given a recovery job whose scan takes longer than the recovery window
    stores.events.add(
        Event("lost", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    slow = dataclasses.replace(
        stores, events=SlowScanEventStore(stores, clock, seconds=90)
    )
    job = Housekeeper(slow, queue, leases, timedelta(seconds=60), clock=clock)
    clock.advance(seconds=61)
    # When it re-queues the event
    job.recover_events()
    # Then the event's wait restarts now, so the next job does not find it stale
    assert stores.events.find_stale(clock() - timedelta(seconds=60)) == []


class SlowRequeueEventStore(EventStore):
    """An event store whose re-queue count takes ``seconds`` of the fake clock."""

    def __init__(self, stores: Stores, clock: FakeClock, seconds: float) -> None:
        super().__init__(stores.db)
        self._clock = clock
        self._seconds = seconds

    def note_recovery(
        self, event_id: str, now: datetime, *, stale_before: datetime | None = None
    ) -> int:
        self._clock.advance(seconds=self._seconds)
        return super().note_recovery(event_id, now, stale_before=stale_before)


def test_a_recovery_job_stops_after_its_budget_and_the_next_goes_on(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> None:
    # Given three stale events, and re-queues that take 3 s each (a backlog)
    for event_id in ("a", "b", "c"):
        stores.events.add(
            Event(event_id, "Msg", PackRef("Slack", "Slack"), clock(), clock()),
            clock(),
        )
    slow = dataclasses.replace(
        stores, events=SlowRequeueEventStore(stores, clock, seconds=3)
    )
    job = Housekeeper(
        slow,
        queue,
        leases,
        timedelta(seconds=60),
        recovery_budget=timedelta(seconds=5),
        clock=clock,
    )
    clock.advance(seconds=61)
    # When a job runs, it re-queues two and stops at its 5 s budget
    job.recover_events()
    left = stores.events.find_stale(clock() - timedelta(seconds=60))
    assert len(left) == 1
    # Then the next job re-queues the last one
    job.recover_events()
    assert stores.events.find_stale(clock() - timedelta(seconds=60)) == []


def test_the_number_of_recoveries_before_giving_up_is_configurable(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> None:
    # Given a housekeeper that re-queues a stuck event at most twice
    housekeeper = Housekeeper(
        stores, queue, leases, timedelta(seconds=60), max_recoveries=2, clock=clock
    )
    stores.events.add(
        Event("stuck", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    # When it has been re-queued twice, it is still pending
    for _ in range(2):
        clock.advance(seconds=61)
        housekeeper.recover_events()
    assert stores.events.get("stuck").status is EventStatus.PENDING
    # Then the third recovery gives it up
    clock.advance(seconds=61)
    housekeeper.recover_events()
    record = stores.events.get("stuck")
    assert record.status is EventStatus.FAILED
    assert "after 2 re-queues" in record.reason


def test_dead_packs_are_deleted_after_the_grace_period(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> None:
    week = timedelta(days=7)
    housekeeper = Housekeeper(
        stores, queue, leases, timedelta(60), pack_grace=week, clock=clock
    )
    stores.packs.register(Pack(id="Slack", name="Slack", last_seen=clock()))
    stores.packs.register(
        Pack(id="Old", name="Old", last_seen=clock() - timedelta(days=8))
    )
    stores.packs.register(
        Pack(id="Older", name="Older", last_seen=clock() - timedelta(days=30))
    )
    assert housekeeper.delete_dead_packs() == 2
    assert [p.id for p in stores.packs.list_packs()] == ["Slack"]


def test_dead_packs_stay_when_deletion_is_off(
    stores: Stores, housekeeper: Housekeeper, clock: FakeClock
) -> None:
    stores.packs.register(
        Pack(id="Old", name="Old", last_seen=clock() - timedelta(days=800))
    )
    assert housekeeper.delete_dead_packs() == 0
    assert [p.id for p in stores.packs.list_packs()] == ["Old"]


def test_the_purge_removes_what_outlived_its_retention(
    stores: Stores, queue: DramatiqQueue, leases: Leases, clock: FakeClock
) -> None:
    retention = Retention(events=timedelta(days=1))
    housekeeper = Housekeeper(
        stores, queue, leases, timedelta(seconds=60), retention=retention, clock=clock
    )
    event = Event("old", "Msg", PackRef("Slack", "Slack"), clock(), clock())
    stores.events.add(event, clock() - timedelta(days=2))
    assert housekeeper.purge_expired()["event"] == 1
