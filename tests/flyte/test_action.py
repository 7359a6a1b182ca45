"""Actions on their own: state history, the finish transition, document shape."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.errors import ActionNotPending
from flyte.event import Event
from flyte.event import PackRef

T0 = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
T2 = T0 + timedelta(seconds=2)
T0_MS = 1767366245000
SHELL = PackRef("Shell", "Shell")
TRIGGER = Event("e1", "Msg", PackRef("Slack", "Slack"), T0, T0)


def new_action() -> Action:
    return Action(
        id="a1",
        name="Run",
        pack_name="Shell",
        correlation_id="c1",
        flow_name="f",
        flow_uuid="u1",
        step_id="run",
        trigger=TRIGGER,
        states=(StateChange(ActionState.NEW, T0),),
    )


def pending_action() -> Action:
    return new_action().moved_to(
        ActionState.PENDING, T1, attempts=1, lease_expires_at=T2, taken_by=SHELL
    )


def result(name: str = "Output") -> Event:
    return Event("r1", name, SHELL, T2, T2)


def test_state_is_the_current_state_and_last_change_says_since_when() -> None:
    action = pending_action()
    assert action.state is ActionState.PENDING
    assert action.last_change == StateChange(ActionState.PENDING, T1)
    assert [change.state for change in action.states] == ["NEW", "PENDING"]


def test_a_state_change_keeps_upstreams_json_and_document_shape() -> None:
    change = StateChange(ActionState.NEW, T0)
    assert change.to_json() == {"value": "NEW", "time": "2026-01-02T15:04:05Z"}
    doc = new_action().to_document()
    assert doc["state"] == {"value": "NEW", "time": T0_MS}
    assert doc["states"] == [{"value": "NEW", "time": T0_MS}]


def test_a_document_round_trips() -> None:
    action = pending_action()
    assert Action.from_document(action.to_document()) == action


def test_finishing_a_pending_action_with_a_result_is_success() -> None:
    done = pending_action().finished_with(result(), T2)
    assert done.state is ActionState.SUCCESS
    assert done.last_change.time == T2
    assert done.result == result()
    assert done.lease_expires_at is None
    assert done.attempts == 1


def test_finishing_with_a_fatal_event_is_fatal() -> None:
    assert pending_action().finished_with(result("FATAL"), T2).state is (
        ActionState.FATAL
    )


@pytest.mark.parametrize(
    "action",
    [
        new_action(),
        pending_action().finished_with(result(), T2),
        pending_action().finished_with(result("FATAL"), T2),
    ],
    ids=["new", "success", "fatal"],
)
def test_only_a_pending_action_can_be_finished(action: Action) -> None:
    with pytest.raises(ActionNotPending, match=f"it is {action.state}"):
        action.finished_with(result(), T2)
