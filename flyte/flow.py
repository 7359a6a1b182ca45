"""Flows: the model of steps (event -> criteria -> command) and its validation."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flyte.config import DEFAULT_MAX_FLOW_STEPS
from flyte.config import DEFAULT_MAX_LABELS
from flyte.errors import InvalidFlow
from flyte.errors import Problem
from flyte.pack import too_many_labels
from flyte.schema import find_problems

#: Raises when a template does not compile; the message says why.
SyntaxCheck = Callable[[str], None]


@dataclass(frozen=True)
class StepEvent:
    """The event that makes a step a candidate: pack name, event name, pack labels."""

    name: str
    pack_name: str
    pack_labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Upstream's JSON (``packLabels`` omitted when empty)."""
        body: dict[str, Any] = {"name": self.name, "packName": self.pack_name}
        if self.pack_labels:
            body["packLabels"] = dict(self.pack_labels)
        return body


@dataclass(frozen=True)
class StepCommand:
    """The command a step asks a pack to run, with its templated input."""

    name: str
    pack_name: str
    pack_labels: Mapping[str, str] = field(default_factory=dict)
    input: Any = None

    def to_dict(self) -> dict[str, Any]:
        """Upstream's JSON (``input`` always present, ``packLabels`` when set)."""
        body: dict[str, Any] = {"name": self.name, "packName": self.pack_name}
        if self.pack_labels:
            body["packLabels"] = dict(self.pack_labels)
        body["input"] = self.input
        return body


@dataclass(frozen=True)
class Step:
    """One rule of a flow; a step without ``depends_on`` is a trigger step."""

    id: str
    event: StepEvent
    command: StepCommand
    depends_on: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    criteria: str = ""
    #: An undefined name in this step's templates is a step error, not ``""``.
    strict: bool = False

    @property
    def is_trigger(self) -> bool:
        """True when an event alone (not a finished step) can fire this step."""
        return not self.depends_on

    def to_dict(self) -> dict[str, Any]:
        """Upstream's JSON, empty optional keys omitted."""
        body: dict[str, Any] = {"id": self.id}
        if self.depends_on:
            body["dependsOn"] = list(self.depends_on)
        body["event"] = self.event.to_dict()
        if self.context:
            body["context"] = dict(self.context)
        if self.criteria:
            body["criteria"] = self.criteria
        body["command"] = self.command.to_dict()
        if self.strict:
            body["strict"] = True
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Build from validated JSON."""
        event, command = data["event"], data["command"]
        return cls(
            id=data["id"],
            event=StepEvent(
                event["name"], event["packName"], event.get("packLabels") or {}
            ),
            command=StepCommand(
                command["name"],
                command["packName"],
                command.get("packLabels") or {},
                command.get("input"),
            ),
            depends_on=tuple(data.get("dependsOn") or ()),
            context=data.get("context") or {},
            criteria=data.get("criteria") or "",
            strict=bool(data.get("strict")),
        )

    def templates(self) -> Iterator[tuple[str, str]]:
        """Every templated string of the step, with its location inside the step."""
        for key, value in self.context.items():
            yield f"context.{key}", value
        for key, value in self.event.pack_labels.items():
            yield f"event.packLabels.{key}", value
        if self.criteria:
            yield "criteria", self.criteria
        for key, value in self.command.pack_labels.items():
            yield f"command.packLabels.{key}", value
        yield from _string_leaves(self.command.input, "command.input")


@dataclass(frozen=True)
class Flow:
    """A named list of steps; each POST of a flow makes a new version (``uuid``)."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    uuid: str = ""
    #: Every step strict: an undefined name in a template is a step error.
    strict: bool = False
    #: False while the flow is paused: it starts no new correlations. A state of
    #: the flow's name, not of a version, so it is not part of the document.
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Upstream's JSON; ``uuid`` and ``enabled`` are internal."""
        body: dict[str, Any] = {"name": self.name}
        if self.description:
            body["description"] = self.description
        if self.strict:
            body["strict"] = True
        if self.steps:
            body["steps"] = [step.to_dict() for step in self.steps]
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], uuid: str = "") -> Flow:
        """Build from validated JSON (step ids already assigned)."""
        return cls(
            name=data["name"],
            description=data.get("description") or "",
            steps=tuple(Step.from_dict(step) for step in data.get("steps") or ()),
            uuid=uuid,
            strict=bool(data.get("strict")),
        )

    def trigger_keys(self) -> list[str]:
        """Index keys of the (pack, event) pairs that can start this flow."""
        keys = {
            trigger_key(s.event.pack_name, s.event.name)
            for s in self.steps
            if s.is_trigger
        }
        return sorted(keys)


def trigger_key(pack_name: str, event_name: str) -> str:
    """The indexed key of a trigger: unambiguous whatever the names contain."""
    return f"{len(pack_name)}:{pack_name}/{event_name}"


def parse_flow(
    body: Any,
    check_syntax: SyntaxCheck,
    *,
    max_steps: int = DEFAULT_MAX_FLOW_STEPS,
    max_labels: int = DEFAULT_MAX_LABELS,
) -> Flow:
    """Validate a flow document and build it; raise InvalidFlow listing every problem.

    Steps without an ``id`` get ``step-N`` (N counts from 1), stable for the
    same document and never clashing with an id the flow names itself.
    """
    # Size limits first, so an oversized flow costs no schema validation.
    problems = _limit_problems(body, max_steps, max_labels)
    if problems:
        raise InvalidFlow(problems)
    problems = find_problems(body, "flow")
    if problems:
        raise InvalidFlow(problems)
    steps = _with_ids(body["steps"])
    problems = _reference_problems(steps)
    flow = Flow.from_dict({**body, "steps": steps})
    problems += _syntax_problems(flow, check_syntax)
    if problems:
        raise InvalidFlow(problems)
    return flow


def _limit_problems(body: Any, max_steps: int, max_labels: int) -> list[Problem]:
    steps = body.get("steps") if isinstance(body, dict) else None
    if not isinstance(steps, list):
        return []  # the schema reports it
    if len(steps) > max_steps:
        return [Problem("$.steps", f"more than {max_steps} steps")]
    problems = []
    for index, step in enumerate(steps):
        for part in ("event", "command"):
            section = step.get(part) if isinstance(step, dict) else None
            labels = section.get("packLabels") if isinstance(section, dict) else None
            if isinstance(labels, dict) and len(labels) > max_labels:
                where = f"$.steps[{index}].{part}.packLabels"
                problems.append(too_many_labels(where, max_labels))
    return problems


def _with_ids(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = {step["id"] for step in steps if step.get("id")}
    named = []
    for index, step in enumerate(steps, start=1):
        if not step.get("id"):
            candidate = f"step-{index}"
            while candidate in taken:
                candidate += "_"
            taken.add(candidate)
            step = {**step, "id": candidate}
        named.append(step)
    return named


def _reference_problems(steps: list[dict[str, Any]]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    ids = {step["id"] for step in steps}
    for index, step in enumerate(steps):
        if step["id"] in seen:
            problems.append(
                Problem(f"$.steps[{index}].id", "duplicate step id", step=step["id"])
            )
        seen.add(step["id"])
        for position, needed in enumerate(step.get("dependsOn") or ()):
            if needed not in ids:
                problems.append(
                    Problem(
                        f"$.steps[{index}].dependsOn[{position}]",
                        f"no step has the id {needed!r}",
                        step=step["id"],
                    )
                )
    return problems


def _syntax_problems(flow: Flow, check_syntax: SyntaxCheck) -> list[Problem]:
    problems = []
    for index, step in enumerate(flow.steps):
        for where, source in step.templates():
            try:
                check_syntax(source)
            except Exception as ex:  # noqa: BLE001 - any compile error is a problem
                problems.append(
                    Problem(f"$.steps[{index}].{where}", str(ex), step=step.id)
                )
    return problems


def _string_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _string_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _string_leaves(item, f"{path}[{position}]")
