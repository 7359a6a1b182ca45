"""The engine: turns a stored event into actions, exactly once, whatever is redelivered.

A new event starts a correlation of every flow whose trigger step matches it. The
result event of an action also continues that action's correlation through the
``dependsOn`` steps. Correlation and action ids derive from the event id, flow
version and step id, so processing an event twice creates nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.action import labels_satisfy
from flyte.clock import derived_id
from flyte.clock import utcnow
from flyte.errors import EventNotFound
from flyte.errors import FlowNotFound
from flyte.errors import ResultNotReady
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import Flow
from flyte.flow import Step
from flyte.masking import tracking_reveals
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.outcome import FlowOutcome
from flyte.outcome import OutcomeKind
from flyte.outcome import StepOutcome
from flyte.outcome import StepStatus
from flyte.store import Stores
from flyte.store.events import EventRecord
from flyte.store.events import EventStatus
from templates import TemplateDeadlineError
from templates import TemplateEngine
from templates import TemplateError
from templates import tracking_undefined

logger = logging.getLogger(__name__)

Functions = Mapping[str, Callable[..., Any]]
#: A result event whose action never finished with it after this long is an orphan
#: (the API failed between storing it and finishing the action).
DEFAULT_ORPHAN_AFTER = timedelta(minutes=5)
#: Renders of one step that ran out of time before its error is recorded: the
#: deadline counts CPU time, yet a cold cache or a long GC may not happen again.
DEFAULT_RENDER_ATTEMPTS = 3
#: The id the warm-up looks for and renders with; nothing is stored under it.
WARM_UP_ID = "warm-up"
#: The reason in the event outcome of a paused flow the event would have started.
FLOW_DISABLED = "flow disabled"


@dataclass(frozen=True)
class Skip:
    """A step that does not fire for this event, and why (labels or criteria)."""

    reason: str
    #: The step's rendered context (the parent's plus its own keys).
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """A step's verdict before anything is stored: its action, or why not."""

    status: StepStatus
    reason: str = ""
    #: The action to store when the step fired.
    action: Action | None = None
    #: The rendered context, when rendering got that far.
    context: Mapping[str, str] | None = None
    #: The undefined names the step's templates touched, in order.
    undefined: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The outcome's warnings: one per undefined name."""
        return tuple(undefined_warning(name) for name in self.undefined)


@dataclass(frozen=True)
class StepCall:
    """One step to evaluate for one event, in one correlation."""

    flow: Flow
    step: Step
    event: Event
    #: The context the step starts from: its parent action's, or empty.
    parent_context: Mapping[str, str]
    correlation_id: str


class StepEvaluator:
    """Evaluate a step against an event, storing nothing (engine and dry run)."""

    def __init__(
        self,
        templates: TemplateEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        functions: Functions | None = None,
        render_attempts: int = DEFAULT_RENDER_ATTEMPTS,
    ) -> None:
        self._templates = templates
        self._clock = clock
        self._functions = functions
        self._render_attempts = max(render_attempts, 1)

    def evaluate(self, call: StepCall) -> Evaluation:
        """Context, event labels, criteria, then command, in upstream's order."""
        with tracking_undefined() as undefined:
            built = self._build_with_retries(call)
        names = undefined.names()
        if isinstance(built, TemplateError):
            return Evaluation(StepStatus.ERROR, str(built), undefined=names)
        context = built.context
        if names and (call.flow.strict or call.step.strict):
            reason = strict_error(names)
            return Evaluation(StepStatus.ERROR, reason, None, context, names)
        if isinstance(built, Skip):
            return Evaluation(StepStatus.SKIPPED, built.reason, None, context, names)
        return Evaluation(StepStatus.FIRED, "", built, context, names)

    def _build_with_retries(self, call: StepCall) -> Action | Skip | TemplateError:
        """Build the step's action, rendering again (up to a bound) if out of time."""
        attempt = 1
        while True:
            try:
                return self.build_action(call)
            except TemplateDeadlineError as ex:
                if attempt >= self._render_attempts:
                    return ex
                attempt += 1
                logger.info(
                    "event=%s correlation=%s step=%s: render ran out of time,"
                    " trying again (%d of %d)",
                    call.event.id,
                    call.correlation_id,
                    call.step.id,
                    attempt,
                    self._render_attempts,
                )
            except TemplateError as ex:
                return ex

    def build_action(self, call: StepCall) -> Action | Skip:
        """The action the step calls for, or why it does not fire."""
        flow, step, event = call.flow, call.step, call.event
        parent_context = dict(call.parent_context)
        # A secret revealed anywhere in this step's rendering makes its action
        # stored encrypted.
        with tracking_reveals() as revealed:
            variables = {"Event": event.template_context(), "Context": parent_context}
            # Context keys see only the parent context, not each other (upstream).
            context = {**parent_context, **self._render_map(step.context, variables)}
            variables["Context"] = context
            wanted = self._render_map(step.event.pack_labels, variables)
            if not labels_satisfy(event.pack.labels, wanted):
                return Skip(f"the event's pack labels do not include {wanted}", context)
            if not self._templates.evaluate_criteria(
                step.criteria, variables, self._functions
            ):
                return Skip("criteria false", context)
            pack_labels = self._render_map(step.command.pack_labels, variables)
            input_ = self._templates.resolve(
                step.command.input, variables, self._functions
            )
        now = self._clock()
        return Action(
            id=derived_id("action", call.correlation_id, step.id),
            name=step.command.name,
            pack_name=step.command.pack_name,
            pack_labels=pack_labels,
            input=input_,
            correlation_id=call.correlation_id,
            flow_name=flow.name,
            flow_uuid=flow.uuid,
            step_id=step.id,
            context=context,
            trigger=event,
            states=(StateChange(ActionState.NEW, now),),
            secret=bool(revealed),
        )

    def _render_map(
        self, templates: Mapping[str, str], variables: dict[str, Any]
    ) -> dict[str, str]:
        return {
            key: self._templates.render(value, variables, self._functions)
            for key, value in templates.items()
        }


class FlowEngine:
    """Match events against flows and persist the actions they call for."""

    def __init__(
        self,
        stores: Stores,
        templates: TemplateEngine,
        *,
        clock: Callable[[], datetime] = utcnow,
        functions: Functions | None = None,
        metrics: Metrics | None = None,
        orphan_after: timedelta = DEFAULT_ORPHAN_AFTER,
        render_attempts: int = DEFAULT_RENDER_ATTEMPTS,
    ) -> None:
        self._stores = stores
        self._templates = templates
        self._clock = clock
        self._orphan_after = orphan_after
        self._metrics = metrics or get_metrics()
        self._evaluator = StepEvaluator(
            templates, clock=clock, functions=functions, render_attempts=render_attempts
        )

    def process(self, event_id: str) -> list[FlowOutcome]:
        """Handle one stored event; a no-op if it was handled already."""
        try:
            record = self._stores.events.get(event_id)
        except EventNotFound:
            # The API removed it: queuing failed and the pack was told so.
            return []
        if record.status is not EventStatus.PENDING:
            return []
        outcomes: list[FlowOutcome] = []
        if record.action_id is not None:
            continuation = self._continuation(record)
            if continuation is None:
                self._stores.events.finish(event_id, EventStatus.DISCARDED, [])
                return []
            outcomes.append(continuation)
        outcomes += self._start_correlations(record.event)
        self._stores.events.finish(event_id, EventStatus.PROCESSED, outcomes)
        return outcomes

    def warm_up(self) -> int:
        """Run the first event's code paths once, storing nothing; return the flows.

        Connections, the first queries, flow parsing and template compiling cost
        most the first time. A worker does them at boot, so its first event is as
        fast as the next ones.
        """
        try:
            self._stores.events.get(WARM_UP_ID)
        except EventNotFound:
            pass
        self._stores.actions.find_by_correlation(WARM_UP_ID)
        listed = self._stores.flows.list_flows()
        for summary in listed:
            try:
                flow = self._stores.flows.get_version(summary.uuid)
            except FlowNotFound:
                continue  # deleted meanwhile
            for step in flow.steps:
                self._warm_up_step(flow, step)
        return len(listed)

    def _warm_up_step(self, flow: Flow, step: Step) -> None:
        """Compile the step's templates and render them for an empty event."""
        for source in _template_sources(step):
            try:
                self._templates.check_syntax(source)
            except TemplateError:
                pass  # the flow was stored with it; the event will report it
        self._stores.flows.find_by_trigger(step.event.pack_name, step.event.name)
        now = self._clock()
        pack = PackRef(step.event.pack_name, step.event.pack_name)
        event = Event(WARM_UP_ID, step.event.name, pack, now, now, {})
        call = StepCall(flow, step, event, {}, WARM_UP_ID)
        with tracking_undefined():
            try:
                self._evaluator.build_action(call)
            except TemplateError:
                pass  # an empty payload need not satisfy the templates

    def _start_correlations(self, event: Event) -> list[FlowOutcome]:
        flows = self._stores.flows.find_by_trigger(event.pack.name, event.name)
        return [outcome for flow in flows if (outcome := self._start(flow, event))]

    def _start(self, flow: Flow, event: Event) -> FlowOutcome | None:
        correlation_id = derived_id("correlation", event.id, flow.uuid)
        candidates = trigger_steps(flow, event)
        if not candidates:
            # The flow was re-posted without this trigger a moment ago.
            return None
        if not flow.enabled:
            # Paused: no correlation starts; the outcome says why nothing fired.
            return FlowOutcome(
                flow.name,
                flow.uuid,
                correlation_id,
                OutcomeKind.STARTED,
                reason=FLOW_DISABLED,
            )
        steps = tuple(
            self._evaluate(StepCall(flow, s, event, {}, correlation_id))
            for s in candidates
        )
        return FlowOutcome(
            flow.name, flow.uuid, correlation_id, OutcomeKind.STARTED, steps
        )

    def _continuation(self, record: EventRecord) -> FlowOutcome | None:
        """Continue the correlation of the action this event is the result of."""
        assert record.action_id is not None
        action = self._stores.actions.get(record.action_id)
        if action.result is None or action.result.id != record.event.id:
            if self._clock() - record.event.received_at > self._orphan_after:
                logger.warning(
                    "discarding result event=%s: action=%s never finished with it",
                    record.event.id,
                    action.id,
                )
                return None
            raise ResultNotReady(
                f"event={record.event.id}: action={action.id} is not finished yet"
            )
        try:
            flow = self._stores.flows.get_version(action.flow_uuid)
        except FlowNotFound:
            reason = f"flow version {action.flow_uuid} no longer exists"
            return FlowOutcome(
                action.flow_name,
                action.flow_uuid,
                action.correlation_id,
                OutcomeKind.CONTINUED,
                reason=reason,
            )
        return self._continue(flow, action, record.event)

    def _continue(self, flow: Flow, action: Action, event: Event) -> FlowOutcome:
        existing = {
            a.step_id: a
            for a in self._stores.actions.find_by_correlation(action.correlation_id)
        }
        finished = {step_id for step_id, a in existing.items() if a.is_finished}
        fired_by = {step_id: a.trigger.id for step_id, a in existing.items()}
        candidates = continuation_steps(flow, event, finished, fired_by)
        steps = tuple(
            self._evaluate(
                StepCall(flow, s, event, action.context, action.correlation_id),
                secret_context=action.secret,
            )
            for s in candidates
        )
        return FlowOutcome(
            flow.name, flow.uuid, action.correlation_id, OutcomeKind.CONTINUED, steps
        )

    def _evaluate(self, call: StepCall, *, secret_context: bool = False) -> StepOutcome:
        """Evaluate one step, and count how it went."""
        outcome = self._outcome(call, secret_context)
        self._metrics.step_evaluated(_STEP_OUTCOMES[outcome.status])
        return outcome

    def _outcome(self, call: StepCall, secret_context: bool) -> StepOutcome:
        """Evaluate the step, and store its action when it fires.

        ``secret_context``: the parent context holds a secret revealed by an
        earlier step (maybe in another process), so the new action is secret too.
        """
        verdict = self._evaluator.evaluate(call)
        step = call.step
        if verdict.action is None:
            return StepOutcome(
                step.id, verdict.status, verdict.reason, None, verdict.warnings
            )
        action = verdict.action
        if secret_context and not action.secret:
            action = replace(action, secret=True)
        created = self._stores.actions.insert(action)
        reason = "" if created else "its action already existed in this correlation"
        return StepOutcome(
            step.id, StepStatus.FIRED, reason, verdict.action.id, verdict.warnings
        )


#: The metrics' name for each step status.
_STEP_OUTCOMES = {
    StepStatus.FIRED: "fired",
    StepStatus.SKIPPED: "skipped",
    StepStatus.ERROR: "failed",
}


def _template_sources(step: Step) -> Iterator[str]:
    """Every template string of a step: context, labels, criteria, command."""
    yield from step.context.values()
    yield from step.event.pack_labels.values()
    yield step.criteria
    yield from step.command.pack_labels.values()
    yield from _strings(step.command.input)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def undefined_warning(name: str) -> str:
    """The warning for one undefined value a step's templates touched."""
    return f'{name} is undefined (rendered as "")'


def strict_error(names: tuple[str, ...]) -> str:
    """The reason a strict step fails: every undefined value it touched."""
    listed = ", ".join(names)
    noun = "value" if len(names) == 1 else "values"
    return f"strict: undefined {noun} in the step's templates: {listed}"


def trigger_steps(flow: Flow, event: Event) -> list[Step]:
    """The flow's steps that a new event of this pack and name can fire."""
    return [s for s in flow.steps if s.is_trigger and listens_to(s, event)]


def continuation_steps(
    flow: Flow,
    event: Event,
    finished: set[str],
    fired_by: Mapping[str, str],
) -> list[Step]:
    """The steps a result event can fire in a correlation.

    ``finished``: ids of the correlation's finished steps; ``fired_by``: for each
    step that has an action, the id of the event that fired it.
    """
    # Upstream's OR: one finished dependency is enough. Trigger steps never
    # fire inside a continuation: upstream fired them there too, so one result
    # could fire a trigger step twice (docs/upstream.md#quirks-this-port-fixes).
    # A step fired by this very event stays a candidate, so processing it
    # again reports the same outcome instead of forgetting that step.
    return [
        s
        for s in flow.steps
        if not s.is_trigger
        and listens_to(s, event)
        and (s.id not in fired_by or fired_by[s.id] == event.id)
        and any(d in finished for d in s.depends_on)
    ]


def listens_to(step: Step, event: Event) -> bool:
    """True when the step names the event's pack and event name."""
    return step.event.name == event.name and step.event.pack_name == event.pack.name
