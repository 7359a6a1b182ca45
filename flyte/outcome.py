"""What an event did: per flow, which steps fired and why others did not.

The engine builds these, the event store keeps them in the event's ``outcome``
field (``to_document``/``from_document``), and ``GET /v1/events/{id}`` shows them
(``to_json``). Today both shapes are the same; each boundary has its own method
so either can change without the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    """The verdict on one candidate step."""

    FIRED = "fired"
    SKIPPED = "skipped"
    ERROR = "error"


class OutcomeKind(StrEnum):
    """Whether the event started a new correlation or continued an existing one."""

    STARTED = "started"
    CONTINUED = "continued"


@dataclass(frozen=True)
class StepOutcome:
    """One candidate step: fired (with its action), skipped or failed, and why.

    ``warnings`` name the undefined values its templates touched (rendered ``""``).
    """

    step_id: str
    status: StepStatus
    reason: str = ""
    action_id: str | None = None
    warnings: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        """The stored shape: empty ``reason``, ``warnings``, ``actionId`` left out."""
        doc: dict[str, Any] = {"id": self.step_id, "status": self.status.value}
        if self.reason:
            doc["reason"] = self.reason
        if self.action_id is not None:
            doc["actionId"] = self.action_id
        if self.warnings:
            doc["warnings"] = list(self.warnings)
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> StepOutcome:
        """Rebuild a step outcome from its stored shape."""
        return cls(
            step_id=doc["id"],
            status=StepStatus(doc["status"]),
            reason=doc.get("reason", ""),
            action_id=doc.get("actionId"),
            warnings=tuple(doc.get("warnings") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON shape shown at ``GET /v1/events/{id}``."""
        return self.to_document()


@dataclass(frozen=True)
class FlowOutcome:
    """What one event did in one flow: a new correlation, or a continuation."""

    flow_name: str
    flow_uuid: str
    correlation_id: str
    kind: OutcomeKind
    steps: tuple[StepOutcome, ...] = ()
    reason: str = ""

    @property
    def started(self) -> bool:
        """True when the event started this correlation."""
        return self.kind is OutcomeKind.STARTED

    def to_document(self) -> dict[str, Any]:
        """The stored shape: an empty ``reason`` is left out."""
        doc: dict[str, Any] = {
            "flow": self.flow_name,
            "flowUUID": self.flow_uuid,
            "correlationId": self.correlation_id,
            "kind": self.kind.value,
            "steps": [step.to_document() for step in self.steps],
        }
        if self.reason:
            doc["reason"] = self.reason
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> FlowOutcome:
        """Rebuild a flow outcome from its stored shape."""
        return cls(
            flow_name=doc["flow"],
            flow_uuid=doc["flowUUID"],
            correlation_id=doc["correlationId"],
            kind=OutcomeKind(doc["kind"]),
            steps=tuple(StepOutcome.from_document(s) for s in doc.get("steps", [])),
            reason=doc.get("reason", ""),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON shape shown at ``GET /v1/events/{id}``."""
        body = self.to_document()
        body["steps"] = [step.to_json() for step in self.steps]
        return body
