"""An execution told in order: each event, the steps it evaluated, the actions.

Pure assembly from ``flyte.audit.Execution`` (no HTML): the execution page
draws the entries as a vertical timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from flyte.action import Action
from flyte.audit import Evaluation
from flyte.audit import Execution
from flyte.event import Event


@dataclass(frozen=True)
class EventEntry:
    """An event of the execution and the step evaluations it caused."""

    event_id: str
    event_name: str
    is_trigger: bool
    time: datetime | None
    event: Event | None
    evaluations: list[Evaluation] = field(default_factory=list)
    kind: str = "event"


@dataclass(frozen=True)
class ActionEntry:
    """An action of the execution with its states, input and result."""

    action: Action
    kind: str = "action"

    @property
    def time(self) -> datetime:
        """When the action was created."""
        return self.action.states[0].time


Entry = EventEntry | ActionEntry


def timeline(execution: Execution) -> list[Entry]:
    """The trigger, then per event its evaluations followed by the actions fired.

    Actions no stored evaluation names (their events expired) come last, in
    the order they were created.
    """
    events = _known_events(execution)
    actions = {action.id: action for action in execution.actions}
    entries: list[Entry] = []
    for entry in _event_entries(execution, events):
        entries.append(entry)
        for evaluation in entry.evaluations:
            action = actions.pop(evaluation.step.action_id or "", None)
            if action is not None:
                entries.append(ActionEntry(action))
    entries.extend(ActionEntry(action) for action in actions.values())
    return entries


def _event_entries(execution: Execution, events: dict[str, Event]) -> list[EventEntry]:
    """One entry per event in evaluation order, the trigger first."""
    trigger_id = execution.trigger.id if execution.trigger else None
    grouped: dict[str, list[Evaluation]] = {}
    names: dict[str, str] = {}
    if trigger_id is not None and execution.trigger is not None:
        grouped[trigger_id] = []
        names[trigger_id] = execution.trigger.name
    for evaluation in execution.evaluations:
        grouped.setdefault(evaluation.event_id, []).append(evaluation)
        names[evaluation.event_id] = evaluation.event_name
    return [
        EventEntry(
            event_id=event_id,
            event_name=names[event_id],
            is_trigger=event_id == trigger_id,
            time=events[event_id].received_at if event_id in events else None,
            event=events.get(event_id),
            evaluations=evaluations,
        )
        for event_id, evaluations in grouped.items()
    ]


def _known_events(execution: Execution) -> dict[str, Event]:
    """Every event the execution carries: its trigger, and each action's own."""
    known = [execution.trigger] if execution.trigger else []
    for action in execution.actions:
        known.append(action.trigger)
        if action.result is not None:
            known.append(action.result)
    return {event.id: event for event in known}
