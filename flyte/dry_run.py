"""The flow dry run: what a flow would do with an event, storing and queuing nothing.

It evaluates every step with the engine's own StepEvaluator, so a step fires,
skips or fails here exactly as the engine would decide; the action a fired step
calls for is shown, never stored. ``datastore()`` and ``secret()`` read the real
datastore (read-only); revealed secrets are masked in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flyte.clock import derived_id
from flyte.clock import utcnow
from flyte.engine import Evaluation
from flyte.engine import StepCall
from flyte.engine import StepEvaluator
from flyte.engine import continuation_steps
from flyte.engine import listens_to
from flyte.engine import trigger_steps
from flyte.errors import Problem
from flyte.errors import ValidationError
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import Flow
from flyte.flow import Step
from flyte.masking import MASK
from flyte.outcome import OutcomeKind
from flyte.outcome import StepStatus

#: The id of the pretend event (and its pack): nothing is stored under it.
DRY_RUN_ID = "dry-run"


@dataclass(frozen=True)
class Answered:
    """The action a result event answers: its step and its context."""

    step_id: str
    context: Mapping[str, str]


@dataclass(frozen=True)
class TestRequest:
    """A parsed dry-run request: which flow, which event, and what it answers."""

    __test__ = False  # not a pytest test class, whatever its name

    #: A stored flow's name, or a flow document.
    flow: str | dict[str, Any]
    pack_name: str
    pack_labels: Mapping[str, str]
    event_name: str
    payload: Any
    answers: Answered | None = None


@dataclass(frozen=True)
class StepReport:
    """What one step of the flow would do with the event."""

    step_id: str
    status: StepStatus
    reason: str = ""
    context: Mapping[str, str] | None = None
    #: The command with its rendered labels and input, when the step fires.
    command: Mapping[str, Any] | None = None
    undefined: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The answer's shape of one step (secrets masked)."""
        body: dict[str, Any] = {"id": self.step_id, "status": self.status.value}
        if self.reason:
            body["reason"] = self.reason
        if self.context is not None:
            body["context"] = MASK.data(dict(self.context))
        if self.command is not None:
            body["command"] = MASK.data(dict(self.command))
        body["undefined"] = list(self.undefined)
        return body


@dataclass(frozen=True)
class DryRunResult:
    """The dry run's answer: the flow, whether it would start or continue, each step."""

    flow: Flow
    kind: OutcomeKind
    steps: tuple[StepReport, ...]

    @property
    def fired(self) -> bool:
        """True when at least one step would fire."""
        return any(step.status is StepStatus.FIRED for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        """The JSON answer of ``POST /v1/flows/test``."""
        body: dict[str, Any] = {
            "flow": self.flow.name,
            "enabled": self.flow.enabled,
            "kind": self.kind.value,
            "fired": self.fired,
            "steps": [step.to_json() for step in self.steps],
        }
        if not self.flow.enabled:
            body["note"] = "flow disabled: a real event would start nothing"
        return body


class DryRun:
    """Run a flow against a pretend event with the engine's evaluation code."""

    def __init__(
        self,
        evaluator: StepEvaluator,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._evaluator = evaluator
        self._clock = clock

    def run(self, flow: Flow, request: TestRequest) -> DryRunResult:
        """Every step's verdict for the request's event; stores nothing."""
        event = _event(request, self._clock())
        answers = request.answers
        if answers is None:
            kind = OutcomeKind.STARTED
            candidates = trigger_steps(flow, event)
            parent: dict[str, str] = {}
        else:
            _check_answered(flow, answers)
            kind = OutcomeKind.CONTINUED
            done = {answers.step_id}
            candidates = continuation_steps(
                flow, event, done, {answers.step_id: DRY_RUN_ID + "-answered"}
            )
            parent = dict(answers.context)
        correlation_id = derived_id("correlation", event.id, flow.uuid or flow.name)
        chosen = {step.id for step in candidates}
        reports = tuple(
            self._report(StepCall(flow, step, event, parent, correlation_id))
            if step.id in chosen
            else StepReport(
                step.id, StepStatus.SKIPPED, _not_a_candidate(step, event, answers)
            )
            for step in flow.steps
        )
        return DryRunResult(flow, kind, reports)

    def _report(self, call: StepCall) -> StepReport:
        verdict = self._evaluator.evaluate(call)
        return StepReport(
            call.step.id,
            verdict.status,
            verdict.reason,
            verdict.context,
            _command(verdict),
            verdict.undefined,
        )


def _command(verdict: Evaluation) -> dict[str, Any] | None:
    action = verdict.action
    if action is None:
        return None
    return {
        "name": action.name,
        "packName": action.pack_name,
        "packLabels": dict(action.pack_labels),
        "input": action.input,
    }


def _event(request: TestRequest, now: datetime) -> Event:
    pack = PackRef(DRY_RUN_ID, request.pack_name, dict(request.pack_labels))
    return Event(DRY_RUN_ID, request.event_name, pack, now, now, request.payload)


def _check_answered(flow: Flow, answers: Answered) -> None:
    if all(step.id != answers.step_id for step in flow.steps):
        problem = Problem("$.answers.step", f"the flow has no step {answers.step_id!r}")
        raise ValidationError("flow test", [problem])


def _not_a_candidate(step: Step, event: Event, answers: Answered | None) -> str:
    """Why a step is not even evaluated for this event."""
    if not listens_to(step, event):
        wanted = f"{step.event.pack_name}/{step.event.name}"
        return f"listens to {wanted}, not {event.pack.name}/{event.name}"
    if answers is None:
        needs = ", ".join(step.depends_on)
        return f"fires only after a step it depends on finishes ({needs})"
    if step.is_trigger:
        return "a trigger step: fires only for a new event, not for a result"
    return f"none of its dependsOn steps is {answers.step_id!r}"


def parse_test_request(body: Any) -> TestRequest:
    """Validate ``{flow, event: {packName, packLabels?, name, payload?}, answers?}``."""
    if not isinstance(body, dict):
        raise _invalid("$", "expected an object with flow and event")
    problems: list[Problem] = []
    unknown = sorted(set(body) - {"flow", "event", "answers"})
    problems += [Problem(f"$.{key}", "unknown key") for key in unknown]
    flow = body.get("flow")
    if not (isinstance(flow, str) and flow) and not isinstance(flow, dict):
        problems.append(Problem("$.flow", "a stored flow's name or a flow document"))
    event = body.get("event")
    if not isinstance(event, dict):
        problems.append(Problem("$.event", "an object: packName, name, payload"))
        event = {}
    problems += _event_problems(event)
    answers = _answers(body.get("answers"), problems)
    if problems:
        raise ValidationError("flow test", problems)
    assert isinstance(flow, str | dict)
    return TestRequest(
        flow=flow,
        pack_name=event["packName"],
        pack_labels=event.get("packLabels") or {},
        event_name=event["name"],
        payload=event.get("payload"),
        answers=answers,
    )


def _event_problems(event: Mapping[str, Any]) -> list[Problem]:
    problems = [
        Problem(f"$.event.{key}", "unknown key")
        for key in sorted(set(event) - {"packName", "packLabels", "name", "payload"})
    ]
    for key in ("packName", "name"):
        if not isinstance(event.get(key), str) or not event.get(key):
            problems.append(Problem(f"$.event.{key}", "a non-empty string"))
    if not _is_labels(event.get("packLabels", {})):
        problems.append(Problem("$.event.packLabels", "an object of strings"))
    return problems


def _answers(raw: Any, problems: list[Problem]) -> Answered | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("$.answers", "an object: step, context"))
        return None
    step, context = raw.get("step"), raw.get("context", {})
    unknown = sorted(set(raw) - {"step", "context"})
    problems += [Problem(f"$.answers.{key}", "unknown key") for key in unknown]
    if not isinstance(step, str) or not step:
        problems.append(Problem("$.answers.step", "a non-empty string"))
    if not _is_labels(context):
        problems.append(Problem("$.answers.context", "an object of strings"))
    if not isinstance(step, str) or not _is_labels(context):
        return None
    return Answered(step, context or {})


def _is_labels(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    )


def _invalid(where: str, message: str) -> ValidationError:
    return ValidationError("flow test", [Problem(where, message)])
