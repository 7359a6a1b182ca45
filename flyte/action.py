"""Actions: commands for packs to run, with their state history.

The states and their history are upstream's: docs/upstream.md#action-states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from flyte.clock import format_time
from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.errors import ActionNotPending
from flyte.event import Event
from flyte.event import PackRef


class ActionState(StrEnum):
    """Where an action is in its life: NEW -> PENDING -> SUCCESS | FATAL."""

    NEW = "NEW"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FATAL = "FATAL"


#: States an action never leaves.
FINISHED = frozenset({ActionState.SUCCESS, ActionState.FATAL})


@dataclass(frozen=True)
class StateChange:
    """One entry of an action's history: the state it entered, and when."""

    state: ActionState
    time: datetime

    def to_json(self) -> dict[str, str]:
        """Upstream's JSON shape, where the state is called ``value``."""
        return {"value": self.state.value, "time": format_time(self.time)}


@dataclass(frozen=True)
class Action:
    """A command one step of one correlation asks a pack to run."""

    id: str
    name: str
    pack_name: str
    correlation_id: str
    flow_name: str
    flow_uuid: str
    step_id: str
    trigger: Event
    states: tuple[StateChange, ...]
    pack_labels: Mapping[str, str] = field(default_factory=dict)
    input: Any = None
    context: Mapping[str, str] = field(default_factory=dict)
    result: Event | None = None
    attempts: int = 0
    lease_expires_at: datetime | None = None
    taken_by: PackRef | None = None
    #: True when its input, context or labels hold a revealed secret: the store
    #: keeps those encrypted (flyte/store/actions.py); not part of the document.
    secret: bool = False

    @property
    def state(self) -> ActionState:
        """The current state."""
        return self.states[-1].state

    @property
    def last_change(self) -> StateChange:
        """The latest entry of the history: the current state and since when."""
        return self.states[-1]

    @property
    def is_finished(self) -> bool:
        """True once the action has a result (SUCCESS or FATAL)."""
        return self.state in FINISHED

    def moved_to(self, state: ActionState, time: datetime, **changes: Any) -> Action:
        """A copy in ``state`` since ``time``, its history extended."""
        history = (*self.states, StateChange(state, time))
        return replace(self, states=history, **changes)

    def finished_with(self, result: Event, time: datetime) -> Action:
        """A copy finished by ``result``: FATAL for a FATAL event, else SUCCESS.

        Raises ActionNotPending unless the action is PENDING (taken, not finished).
        """
        if self.state is not ActionState.PENDING:
            raise ActionNotPending(self.id, f"it is {self.state}")
        state = ActionState.FATAL if result.is_fatal else ActionState.SUCCESS
        return self.moved_to(state, time, result=result, lease_expires_at=None)

    def to_document(self) -> dict[str, Any]:
        """The MongoDB document: upstream's shape, times as epoch milliseconds."""
        doc: dict[str, Any] = {
            "_id": self.id,
            "name": self.name,
            "packName": self.pack_name,
            "packLabels": dict(self.pack_labels),
            "input": self.input,
            "state": _state_document(self.last_change),
            "states": [_state_document(change) for change in self.states],
            "correlationId": self.correlation_id,
            "flowName": self.flow_name,
            "flowUUID": self.flow_uuid,
            "stepId": self.step_id,
            "context": dict(self.context),
            "trigger": self.trigger.to_document(),
            "attempts": self.attempts,
        }
        if self.result is not None:
            doc["result"] = self.result.to_document()
        if self.lease_expires_at is not None:
            doc["leaseExpiresAt"] = to_millis(self.lease_expires_at)
        if self.taken_by is not None:
            doc["takenBy"] = self.taken_by.to_document()
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Action:
        """Rebuild an action from its document."""
        lease = doc.get("leaseExpiresAt")
        result = doc.get("result")
        taker = doc.get("takenBy")
        return cls(
            id=doc["_id"],
            name=doc["name"],
            pack_name=doc["packName"],
            pack_labels=doc.get("packLabels") or {},
            input=doc.get("input"),
            states=tuple(
                StateChange(ActionState(s["value"]), from_millis(s["time"]))
                for s in doc["states"]
            ),
            correlation_id=doc["correlationId"],
            flow_name=doc["flowName"],
            flow_uuid=doc["flowUUID"],
            step_id=doc["stepId"],
            context=doc.get("context") or {},
            trigger=Event.from_document(doc["trigger"]),
            result=None if result is None else Event.from_document(result),
            attempts=doc.get("attempts", 0),
            lease_expires_at=None if lease is None else from_millis(lease),
            taken_by=None if taker is None else PackRef.from_document(taker),
        )


def labels_satisfy(have: Mapping[str, str], want: Mapping[str, str]) -> bool:
    """True when every wanted label is present with the same value (subset match)."""
    return all(key in have and have[key] == value for key, value in want.items())


def _state_document(change: StateChange) -> dict[str, Any]:
    return {"value": change.state.value, "time": to_millis(change.time)}
