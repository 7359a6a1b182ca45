"""What an event did: per flow, which steps fired and why others did not."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    """The verdict on one candidate step."""

    FIRED = "fired"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class StepOutcome:
    """One candidate step: fired (with its action), skipped or failed, and why."""

    step_id: str
    status: StepStatus
    reason: str = ""
    action_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON shape shown at ``GET /v1/events/{id}``."""
        body: dict[str, Any] = {"id": self.step_id, "status": self.status.value}
        if self.reason:
            body["reason"] = self.reason
        if self.action_id is not None:
            body["actionId"] = self.action_id
        return body


@dataclass(frozen=True)
class FlowOutcome:
    """What one event did in one flow: a new correlation, or a continuation."""

    flow_name: str
    flow_uuid: str
    correlation_id: str
    continued: bool
    steps: list[StepOutcome] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON shape shown at ``GET /v1/events/{id}``."""
        body: dict[str, Any] = {
            "flow": self.flow_name,
            "flowUUID": self.flow_uuid,
            "correlationId": self.correlation_id,
            "kind": "continued" if self.continued else "started",
            "steps": [step.to_json() for step in self.steps],
        }
        if self.reason:
            body["reason"] = self.reason
        return body
