"""Outcomes: their stored and JSON shapes, and reading documents already stored."""

from __future__ import annotations

from typing import Any

import pytest

from flyte.outcome import FlowOutcome
from flyte.outcome import OutcomeKind
from flyte.outcome import StepOutcome
from flyte.outcome import StepStatus

FIRED = StepOutcome("a", StepStatus.FIRED, action_id="act1")
REFIRED = StepOutcome(
    "b",
    StepStatus.FIRED,
    reason="its action already existed in this correlation",
    action_id="act2",
)
SKIPPED = StepOutcome("c", StepStatus.SKIPPED, reason="criteria false")
FAILED = StepOutcome("d", StepStatus.ERROR, reason="error while evaluating expression")
STARTED = FlowOutcome("f", "u1", "c1", OutcomeKind.STARTED, (FIRED, SKIPPED))
CONTINUED = FlowOutcome("f", "u1", "c1", OutcomeKind.CONTINUED, (REFIRED, FAILED))
GONE = FlowOutcome(
    "f", "u0", "c0", OutcomeKind.CONTINUED, reason="flow version u0 no longer exists"
)

#: What the engine stored before outcomes were typed: ``FlowOutcome.to_json()``
#: of that time, byte for byte. Documents like these are in existing databases.
STORED_BEFORE: list[tuple[FlowOutcome, dict[str, Any]]] = [
    (
        STARTED,
        {
            "flow": "f",
            "flowUUID": "u1",
            "correlationId": "c1",
            "kind": "started",
            "steps": [
                {"id": "a", "status": "fired", "actionId": "act1"},
                {"id": "c", "status": "skipped", "reason": "criteria false"},
            ],
        },
    ),
    (
        CONTINUED,
        {
            "flow": "f",
            "flowUUID": "u1",
            "correlationId": "c1",
            "kind": "continued",
            "steps": [
                {
                    "id": "b",
                    "status": "fired",
                    "reason": "its action already existed in this correlation",
                    "actionId": "act2",
                },
                {
                    "id": "d",
                    "status": "error",
                    "reason": "error while evaluating expression",
                },
            ],
        },
    ),
    (
        GONE,
        {
            "flow": "f",
            "flowUUID": "u0",
            "correlationId": "c0",
            "kind": "continued",
            "steps": [],
            "reason": "flow version u0 no longer exists",
        },
    ),
]
IDS = ["started", "continued", "flow-version-gone"]


@pytest.mark.parametrize(("outcome", "doc"), STORED_BEFORE, ids=IDS)
def test_documents_stored_before_typed_outcomes_are_read_back(
    outcome: FlowOutcome, doc: dict[str, Any]
) -> None:
    assert FlowOutcome.from_document(doc) == outcome


@pytest.mark.parametrize(("outcome", "doc"), STORED_BEFORE, ids=IDS)
def test_the_stored_shape_is_unchanged(
    outcome: FlowOutcome, doc: dict[str, Any]
) -> None:
    assert outcome.to_document() == doc
    assert list(outcome.to_document()) == list(doc)


@pytest.mark.parametrize(("outcome", "doc"), STORED_BEFORE, ids=IDS)
def test_the_api_shape_is_unchanged(outcome: FlowOutcome, doc: dict[str, Any]) -> None:
    assert outcome.to_json() == doc
    assert list(outcome.to_json()) == list(doc)


@pytest.mark.parametrize("outcome", [STARTED, CONTINUED, GONE], ids=IDS)
def test_an_outcome_survives_a_round_trip(outcome: FlowOutcome) -> None:
    assert FlowOutcome.from_document(outcome.to_document()) == outcome


@pytest.mark.parametrize("step", [FIRED, REFIRED, SKIPPED, FAILED])
def test_a_step_outcome_survives_a_round_trip(step: StepOutcome) -> None:
    assert StepOutcome.from_document(step.to_document()) == step


def test_a_document_without_steps_reads_as_no_steps() -> None:
    doc = {"flow": "f", "flowUUID": "u1", "correlationId": "c1", "kind": "started"}
    assert FlowOutcome.from_document(doc).steps == ()


def test_the_kind_says_whether_the_event_started_the_correlation() -> None:
    assert STARTED.started
    assert not CONTINUED.started


def test_an_unknown_status_or_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        StepOutcome.from_document({"id": "a", "status": "maybe"})
    with pytest.raises(ValueError):
        FlowOutcome.from_document({**STORED_BEFORE[0][1], "kind": "resumed"})


WARNED = StepOutcome(
    "e",
    StepStatus.FIRED,
    action_id="act3",
    warnings=('Event.Payload.user is undefined (rendered as "")',),
)


def test_warnings_are_stored_and_shown_last_only_when_there_are_some() -> None:
    doc = {
        "id": "e",
        "status": "fired",
        "actionId": "act3",
        "warnings": ['Event.Payload.user is undefined (rendered as "")'],
    }
    assert WARNED.to_document() == doc
    assert list(WARNED.to_json()) == list(doc)
    assert "warnings" not in FIRED.to_document()
    assert StepOutcome.from_document(doc) == WARNED
