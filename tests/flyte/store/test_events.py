"""Contract tests of EventStore; they run unchanged on nx-27017 or real MongoDB."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from pymongo.database import Database

from flyte.errors import EventNotFound
from flyte.event import Event
from flyte.event import PackRef
from flyte.outcome import FlowOutcome
from flyte.outcome import OutcomeKind
from flyte.outcome import StepOutcome
from flyte.outcome import StepStatus
from flyte.store import Stores
from flyte.store.events import EventStatus

T0 = datetime(2026, 1, 2, 15, 4, 5, 250000, tzinfo=UTC)


def make_event(event_id: str = "e1") -> Event:
    pack = PackRef("Slack.env.prod", "Slack", {"env": "prod"})
    return Event(
        event_id, "Msg", pack, T0 - timedelta(seconds=1), T0, {"a": [1, {"b": None}]}
    )


def test_add_then_get_round_trips_the_event(stores: Stores) -> None:
    assert stores.events.add(make_event(), T0) is True
    record = stores.events.get("e1")
    assert record.event == make_event()
    assert record.status is EventStatus.PENDING
    assert record.action_id is None
    assert record.outcomes == []


def test_a_result_event_remembers_its_action(stores: Stores) -> None:
    stores.events.add(make_event(), T0, action_id="a1")
    assert stores.events.get("e1").action_id == "a1"


def test_adding_the_same_id_twice_is_refused(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    assert stores.events.add(make_event(), T0) is False


def test_get_unknown_event_raises_event_not_found(stores: Stores) -> None:
    with pytest.raises(EventNotFound):
        stores.events.get("nope")


def test_finish_records_status_and_outcome(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    outcomes = [
        FlowOutcome(
            "f", "u1", "c1", OutcomeKind.STARTED, (StepOutcome("a", StepStatus.FIRED),)
        )
    ]
    stores.events.finish("e1", EventStatus.PROCESSED, outcomes)
    record = stores.events.get("e1")
    assert (record.status, record.outcomes) == (EventStatus.PROCESSED, outcomes)


def test_find_stale_lists_only_events_pending_too_long(stores: Stores) -> None:
    stores.events.add(make_event("old"), T0)
    stores.events.add(make_event("new"), T0 + timedelta(minutes=5))
    stores.events.add(make_event("done"), T0)
    stores.events.finish("done", EventStatus.PROCESSED, [])
    assert stores.events.find_stale(T0 + timedelta(minutes=1)) == ["old"]


def test_delete_forgets_the_event(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    stores.events.delete("e1")
    with pytest.raises(EventNotFound):
        stores.events.get("e1")


def test_note_recovery_counts_and_restarts_the_wait(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    later = T0 + timedelta(minutes=2)
    assert stores.events.note_recovery("e1", later) == 1
    assert stores.events.find_stale(T0 + timedelta(minutes=1)) == []
    assert stores.events.note_recovery("e1", later) == 2


def test_an_overlapping_recovery_does_not_count_a_requeue_twice(
    stores: Stores,
) -> None:
    # Given two recovery jobs that both found e1 stale before either re-queued it
    stores.events.add(make_event(), T0)
    stale_before = T0 + timedelta(minutes=1)
    later = T0 + timedelta(minutes=2)
    # When both note their re-queue
    first = stores.events.note_recovery("e1", later, stale_before=stale_before)
    second = stores.events.note_recovery("e1", later, stale_before=stale_before)
    # Then only the first counts; the second finds its wait restarted
    assert (first, second) == (1, 0)


def test_note_recovery_of_a_finished_event_is_zero(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    stores.events.finish("e1", EventStatus.PROCESSED, [])
    assert stores.events.note_recovery("e1", T0) == 0


def test_finish_can_record_a_reason(stores: Stores) -> None:
    stores.events.add(make_event(), T0)
    stores.events.finish("e1", EventStatus.FAILED, [], "gave up")
    assert stores.events.get("e1").reason == "gave up"


#: An event's ``outcome`` as stored before outcomes were typed (the engine wrote
#: ``FlowOutcome.to_json()``); existing databases hold documents like it.
STORED_OUTCOME = [
    {
        "flow": "f",
        "flowUUID": "u1",
        "correlationId": "c1",
        "kind": "continued",
        "steps": [
            {"id": "a", "status": "fired", "actionId": "act1"},
            {"id": "b", "status": "skipped", "reason": "criteria false"},
        ],
    }
]
TYPED_OUTCOME = [
    FlowOutcome(
        "f",
        "u1",
        "c1",
        OutcomeKind.CONTINUED,
        (
            StepOutcome("a", StepStatus.FIRED, action_id="act1"),
            StepOutcome("b", StepStatus.SKIPPED, reason="criteria false"),
        ),
    )
]


def test_an_outcome_stored_before_typed_outcomes_is_read_typed(
    stores: Stores, db: Database[dict[str, Any]]
) -> None:
    stores.events.add(make_event(), T0)
    db["event"].update_one(
        {"_id": "e1"}, {"$set": {"status": "processed", "outcome": STORED_OUTCOME}}
    )
    assert stores.events.get("e1").outcomes == TYPED_OUTCOME


def test_finish_stores_the_outcome_in_its_existing_shape(
    stores: Stores, db: Database[dict[str, Any]]
) -> None:
    stores.events.add(make_event(), T0)
    stores.events.finish("e1", EventStatus.PROCESSED, TYPED_OUTCOME)
    stored = db["event"].find_one({"_id": "e1"})
    assert stored is not None and stored["outcome"] == STORED_OUTCOME
