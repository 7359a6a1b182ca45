"""The audit of flow executions (§10): query parameters, and what an execution shows.

An execution is one correlation: the flow version it ran on, the audit copy of
each of its actions, the event that started it and every step evaluation its
events recorded (fired, skipped or failed, with the reason).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from flyte.errors import ExecutionNotFound
from flyte.errors import FlowNotFound
from flyte.errors import InvalidAuditQuery
from flyte.errors import Problem
from flyte.outcome import StepStatus

if TYPE_CHECKING:
    from flyte.action import Action
    from flyte.event import Event
    from flyte.flow import Flow
    from flyte.store import Stores
    from flyte.store.events import EventRecord

logger = logging.getLogger(__name__)

#: Executions per page when ``limit`` is not given (upstream's default).
DEFAULT_LIMIT = 50
#: The largest page; a larger ``limit`` is lowered to it.
MAX_LIMIT = 500
#: The largest ``start``: MongoDB's ``$skip`` takes a 64-bit integer.
MAX_START = 2**63 - 1
#: Query parameters are URL text: one value, or several when repeated.
Params = Mapping[str, str | Sequence[str]]
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class AuditQuery:
    """Which executions to list: filters on their actions, and the page."""

    flow_name: str | None = None
    step_id: str | None = None
    action_name: str | None = None
    action_pack_name: str | None = None
    action_pack_labels: Mapping[str, str] = field(default_factory=dict)
    start: int = 0
    limit: int = DEFAULT_LIMIT


def parse_audit_query(params: Params) -> AuditQuery:
    """Read ``GET /v1/audit/flows`` parameters as upstream does, but strictly paged.

    Empty filters are ignored. ``start`` and ``limit`` must be decimal integers
    (``start`` >= 0, ``limit`` >= 1, lowered to ``MAX_LIMIT``); otherwise raise
    InvalidAuditQuery, where upstream fell back to the default or failed with 500.
    """
    problems: list[Problem] = []
    start = _integer(params, "start", 0, 0, problems)
    limit = _integer(params, "limit", DEFAULT_LIMIT, 1, problems)
    labels = parse_labels(_first(params, "actionPackLabels"))
    problems += [
        Problem("actionPackLabels", f"the label {key!r} cannot be queried")
        for key in labels
        if "." in key or key.startswith("$")
    ]
    if problems:
        raise InvalidAuditQuery(problems)
    return AuditQuery(
        flow_name=_first(params, "flowName") or None,
        step_id=_first(params, "stepId") or None,
        action_name=_first(params, "actionName") or None,
        action_pack_name=_first(params, "actionPackName") or None,
        action_pack_labels=labels,
        start=start,
        limit=min(limit, MAX_LIMIT),
    )


def parse_labels(text: str) -> dict[str, str]:
    """Parse ``k:v,k2:v2`` labels as upstream does.

    Pairs are split on ``,`` then on ``:`` and kept only with exactly two parts,
    both trimmed. Unlike upstream, a pair with an empty key is dropped.
    """
    labels = {}
    for pair in text.split(","):
        parts = [part.strip() for part in pair.split(":")]
        if len(parts) == 2 and parts[0]:
            labels[parts[0]] = parts[1]
    return labels


def _first(params: Params, name: str) -> str:
    """The parameter's value, the first one when it is repeated (as Go's Get)."""
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value or ""
    return value[0] if value else ""


def _integer(
    params: Params, name: str, default: int, minimum: int, problems: list[Problem]
) -> int:
    """A decimal integer of at least ``minimum``, at most ``MAX_START``."""
    text = _first(params, name)
    if not text:
        return default
    # Python refuses to convert very long digit strings; they are huge anyway.
    value = int(text) if _DIGITS.fullmatch(text) and len(text) <= 19 else MAX_START
    if _DIGITS.fullmatch(text) and value >= minimum:
        return min(value, MAX_START)
    problems.append(Problem(name, f"must be an integer of at least {minimum}"))
    return default


@dataclass(frozen=True)
class Evaluation:
    """One step evaluated in a correlation: which event caused it, and the verdict."""

    event_id: str
    event_name: str
    step_id: str
    status: StepStatus
    reason: str = ""
    action_id: str | None = None


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
        Evaluation(
            event_id=record.event.id,
            event_name=record.event.name,
            step_id=step["id"],
            status=StepStatus(step["status"]),
            reason=step.get("reason", ""),
            action_id=step.get("actionId"),
        )
        for record in records
        for outcome in record.outcome
        if outcome.get("correlationId") == correlation_id
        for step in outcome.get("steps", [])
    ]


def _flow_uuid(correlation_id: str, records: Sequence[EventRecord]) -> str | None:
    for record in records:
        for outcome in record.outcome:
            if outcome.get("correlationId") == correlation_id:
                return str(outcome["flowUUID"])
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
    for record in records:
        for outcome in record.outcome:
            started = outcome.get("kind") == "started"
            if started and outcome.get("correlationId") == correlation_id:
                return record.event
    triggers = {step.id for step in flow.steps if step.is_trigger}
    for action in actions:
        if action.step_id in triggers:
            return action.trigger
    return None
