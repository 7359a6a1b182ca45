"""The audit of flow executions: what one execution shows, assembled from the stores.

An execution is one correlation: the flow version it ran on, the audit copy of
each of its actions, the event that started it and every step evaluation its
events recorded (fired, skipped or failed, with the reason). The query that
lists executions is in ``flyte.audit_query``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass

from flyte.action import Action
from flyte.audit_query import AuditQuery
from flyte.errors import ExecutionNotFound
from flyte.errors import FlowNotFound
from flyte.event import Event
from flyte.flow import Flow
from flyte.outcome import FlowOutcome
from flyte.outcome import StepOutcome
from flyte.store import Stores
from flyte.store.events import EventRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """One step evaluated in a correlation: which event caused it, and the verdict."""

    event_id: str
    event_name: str
    step: StepOutcome


@dataclass(frozen=True)
class Execution:
    """One correlation of a flow: its version, actions, trigger and evaluations."""

    flow: Flow
    correlation_id: str
    actions: tuple[Action, ...]
    trigger: Event | None = None
    evaluations: tuple[Evaluation, ...] = ()


class Audit:
    """Assembles executions from the audit copies, flow versions and stored events."""

    def __init__(self, stores: Stores) -> None:
        self._stores = stores

    def find_executions(self, query: AuditQuery) -> list[Execution]:
        """The executions matching ``query``, most recently active first.

        A correlation whose flow version is gone is left out (and logged).
        """
        ids = self._stores.audit.find_correlations(query)
        actions = self._stores.audit.find_by_correlations(ids)
        records = self._stores.events.find_by_correlations(ids)
        versions: dict[str, Flow | None] = {}
        found = []
        for correlation_id in ids:
            try:
                execution = self._execution(
                    correlation_id,
                    actions.get(correlation_id, []),
                    records.get(correlation_id, []),
                    versions,
                )
            except ExecutionNotFound as ex:
                logger.error(
                    "audit: leaving out correlation=%s: %s", correlation_id, ex
                )
                continue
            found.append(execution)
        return found

    def get_execution(self, correlation_id: str) -> Execution:
        """One execution; raise ExecutionNotFound if nothing or no version is left.

        A correlation in which no step fired has no action, but its evaluations
        still make it an execution here (it is not listed by find_executions).
        """
        actions = self._stores.audit.find_by_correlation(correlation_id)
        records = self._stores.events.find_by_correlation(correlation_id)
        return self._execution(correlation_id, actions, records, {})

    def _execution(
        self,
        correlation_id: str,
        actions: list[Action],
        records: list[EventRecord],
        versions: dict[str, Flow | None],
    ) -> Execution:
        uuid = actions[0].flow_uuid if actions else _flow_uuid(correlation_id, records)
        if uuid is None:
            raise ExecutionNotFound(correlation_id)
        if uuid not in versions:
            versions[uuid] = self._version(uuid)
        flow = versions[uuid]
        if flow is None:
            detail = f"its flow version {uuid!r} no longer exists"
            raise ExecutionNotFound(correlation_id, detail)
        ordered = sorted(actions, key=lambda a: (a.states[0].time, a.id))
        return Execution(
            flow=flow,
            correlation_id=correlation_id,
            actions=tuple(ordered),
            trigger=_trigger(correlation_id, flow, ordered, records),
            evaluations=tuple(evaluations_of(correlation_id, records)),
        )

    def _version(self, uuid: str) -> Flow | None:
        try:
            return self._stores.flows.get_version(uuid)
        except FlowNotFound:
            return None


def evaluations_of(
    correlation_id: str, records: Sequence[EventRecord]
) -> list[Evaluation]:
    """Every step outcome the events recorded for this correlation, in event order."""
    return [
        Evaluation(record.event.id, record.event.name, step)
        for record, outcome in _outcomes_in(correlation_id, records)
        for step in outcome.steps
    ]


def _outcomes_in(
    correlation_id: str, records: Sequence[EventRecord]
) -> Iterator[tuple[EventRecord, FlowOutcome]]:
    """Each event's outcome in this correlation, in event order."""
    for record in records:
        for outcome in record.outcomes:
            if outcome.correlation_id == correlation_id:
                yield record, outcome


def _flow_uuid(correlation_id: str, records: Sequence[EventRecord]) -> str | None:
    for _, outcome in _outcomes_in(correlation_id, records):
        return outcome.flow_uuid
    return None


def _trigger(
    correlation_id: str,
    flow: Flow,
    actions: Sequence[Action],
    records: Sequence[EventRecord],
) -> Event | None:
    """The event that started the correlation.

    Its stored outcome says ``started``; if that event has expired, an action of
    a trigger step still carries it.
    """
    for record, outcome in _outcomes_in(correlation_id, records):
        if outcome.started:
            return record.event
    triggers = {step.id for step in flow.steps if step.is_trigger}
    for action in actions:
        if action.step_id in triggers:
            return action.trigger
    return None
