"""The engine's rules, on real stores: matching, correlations, exactly-once."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from flyte.action import ActionState
from flyte.clock import new_id
from flyte.engine import DEFAULT_RENDER_ATTEMPTS
from flyte.engine import FlowEngine
from flyte.errors import ResultNotReady
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import parse_flow
from flyte.outcome import OutcomeKind
from flyte.pack import Pack
from flyte.store import Stores
from flyte.store.events import EventStatus
from templates import TemplateEngine
from tests.conftest import FakeClock

check = TemplateEngine().check_syntax
SLACK = PackRef("Slack.env.prod", "Slack", {"env": "prod"})
SHELL = Pack(id="Shell", name="Shell", last_seen=None)  # type: ignore[arg-type]


def add_flow(stores: Stores, *steps: dict[str, Any], name: str = "f") -> str:
    return stores.flows.add(
        parse_flow({"name": name, "steps": list(steps)}, check)
    ).uuid


def step(
    step_id: str,
    event: tuple[str, str] = ("Slack", "Msg"),
    command: tuple[str, str] = ("Shell", "Run"),
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "id": step_id,
        "event": {"packName": event[0], "name": event[1]},
        "command": {"packName": command[0], "name": command[1]},
    }
    if "input" in extra:
        body["command"]["input"] = extra.pop("input")
    return {**body, **extra}


def post(
    stores: Stores,
    clock: FakeClock,
    name: str = "Msg",
    payload: Any = None,
    pack: PackRef = SLACK,
    action_id: str | None = None,
    event_id: str = "",
) -> Event:
    event = Event(event_id or new_id(), name, pack, clock(), clock(), payload)
    stores.events.add(event, clock(), action_id=action_id)
    return event


def finish(
    stores: Stores,
    clock: FakeClock,
    action_id: str,
    name: str = "Output",
    payload: Any = None,
) -> Event:
    """Take the action as the Shell pack and post its result, as the API would."""
    action = stores.actions.get(action_id)
    pack = Pack(id="Shell", name=action.pack_name, last_seen=clock(), labels={})
    stores.actions.take_next(pack, action.name, clock(), clock())
    result = Event(f"result-{action_id}", name, pack.ref(), clock(), clock(), payload)
    stores.events.add(result, clock(), action_id=action_id)
    taken = stores.actions.get(action_id)
    stores.actions.finish(taken, taken.finished_with(result, clock()))
    return result


def test_a_matching_event_starts_a_correlation_with_a_new_action(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    uuid = add_flow(stores, step("a", input={"msg": "{{ Event.Payload.text }}"}))
    event = post(stores, clock, payload={"text": "hi"})
    [outcome] = engine.process(event.id)
    assert outcome.flow_uuid == uuid
    assert outcome.steps[0].status == "fired"
    action = stores.actions.get(outcome.steps[0].action_id)
    assert (action.name, action.pack_name, action.step_id) == ("Run", "Shell", "a")
    assert action.state is ActionState.NEW
    assert [s.state for s in action.states] == [ActionState.NEW]
    assert action.trigger == event
    assert action.correlation_id == outcome.correlation_id
    assert stores.events.get(event.id).status is EventStatus.PROCESSED


def test_each_matching_flow_gets_its_own_correlation(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"), name="one")
    add_flow(stores, step("a"), name="two")
    add_flow(stores, step("a", event=("Slack", "Other")), name="unrelated")
    outcomes = engine.process(post(stores, clock).id)
    assert sorted(o.flow_name for o in outcomes) == ["one", "two"]
    assert len({o.correlation_id for o in outcomes}) == 2


def test_processing_twice_creates_nothing_twice(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"))
    event = post(stores, clock)
    first = engine.process(event.id)
    # A redelivered message after a crash between insert and finish:
    stores.events.finish(event.id, EventStatus.PENDING, [])
    stores.db["event"].update_one({"_id": event.id}, {"$set": {"pendingSince": 1}})
    second = engine.process(event.id)
    assert first[0].correlation_id == second[0].correlation_id
    assert second[0].steps[0].action_id == first[0].steps[0].action_id
    assert "already existed" in second[0].steps[0].reason
    assert len(stores.actions.find_by_correlation(first[0].correlation_id)) == 1


def test_a_processed_event_is_not_processed_again(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"))
    event = post(stores, clock)
    engine.process(event.id)
    assert engine.process(event.id) == []


@pytest.mark.parametrize(
    ("extra", "status", "reason"),
    [
        ({"criteria": "{{ Event.Payload.n > 2 }}"}, "skipped", "criteria false"),
        ({"criteria": "{{ 'maybe' }}"}, "error", "maybe"),
        ({"context": {"x": "{{ Event.Payload.n|key:'a' }}"}}, "error", "evaluating"),
        (
            {
                "event": {
                    "packName": "Slack",
                    "name": "Msg",
                    "packLabels": {"env": "dev"},
                }
            },
            "skipped",
            "pack labels",
        ),
    ],
    ids=["criteria-false", "criteria-not-boolean", "template-error", "labels"],
)
def test_a_step_that_does_not_fire_records_why(
    stores: Stores,
    engine: FlowEngine,
    clock: FakeClock,
    extra: dict[str, Any],
    status: str,
    reason: str,
) -> None:
    add_flow(stores, {**step("a"), **extra})
    event = post(stores, clock, payload={"n": 1})
    [outcome] = engine.process(event.id)
    assert outcome.steps[0].status == status
    assert reason in outcome.steps[0].reason
    assert stores.events.get(event.id).outcomes == [outcome]


def test_templated_labels_context_and_input_follow_upstreams_order(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(
        stores,
        dict(
            id="a",
            event={"packName": "Slack", "name": "Msg"},
            context={
                "env": "{{ Event.Pack.Labels.env }}",
                "n": "{{ Event.Payload.n }}",
            },
            criteria="{{ Context.env == 'prod' && Event.Payload.n|integer > 2 }}",
            command={
                "packName": "Shell",
                "name": "Run",
                "packLabels": {"env": "{{ Context.env }}"},
                "input": {
                    "cmd": "deploy {{ Context.n }}",
                    "keep": 7,
                    "list": ["{{ Context.env }}"],
                },
            },
        ),
    )
    [outcome] = engine.process(post(stores, clock, payload={"n": 3}).id)
    action = stores.actions.get(outcome.steps[0].action_id)
    assert action.context == {"env": "prod", "n": "3"}
    assert action.pack_labels == {"env": "prod"}
    assert action.input == {"cmd": "deploy 3", "keep": 7, "list": ["prod"]}


def test_a_result_continues_its_correlation_through_depends_on(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(
        stores,
        step("a", context={"who": "{{ Event.Payload.user }}"}),
        step(
            "b",
            event=("Shell", "Output"),
            command=("Slack", "Send"),
            dependsOn=["a"],
            input="{{ Context.who }}: {{ Event.Payload }}",
        ),
    )
    [started] = engine.process(post(stores, clock, payload={"user": "ann"}).id)
    result = finish(stores, clock, started.steps[0].action_id, payload="done")
    outcomes = engine.process(result.id)
    assert [o.kind for o in outcomes] == [OutcomeKind.CONTINUED]
    assert outcomes[0].correlation_id == started.correlation_id
    action = stores.actions.get(outcomes[0].steps[0].action_id)
    assert action.input == "ann: done"
    assert action.trigger.id == result.id


def test_processing_a_result_twice_reports_the_same_outcome(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"), step("b", event=("Shell", "Output"), dependsOn=["a"]))
    [started] = engine.process(post(stores, clock).id)
    result = finish(stores, clock, started.steps[0].action_id)
    [first] = engine.process(result.id)
    # A redelivery after a crash, or a recovery re-queue racing the first run:
    stores.db["event"].update_one({"_id": result.id}, {"$set": {"status": "pending"}})
    [second] = engine.process(result.id)
    assert [(s.step_id, s.status, s.action_id) for s in second.steps] == [
        ("b", "fired", first.steps[0].action_id)
    ]
    assert stores.events.get(result.id).outcomes == [second]


def test_fatal_results_continue_too_as_upstreams_or(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(
        stores,
        step("a"),
        step("other", event=("Jira", "Created")),
        step("b", event=("Shell", "FATAL"), dependsOn=["a", "other"]),
    )
    [started] = engine.process(post(stores, clock).id)
    result = finish(stores, clock, started.steps[0].action_id, name="FATAL")
    assert stores.actions.get(started.steps[0].action_id).state is ActionState.FATAL
    [continued] = engine.process(result.id)
    assert continued.steps[0].status == "fired"


def test_trigger_steps_never_fire_inside_a_continuation(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    # Upstream fired B twice: in a new correlation, and again inside A's.
    add_flow(
        stores,
        step("a", command=("Shell", "Run")),
        step("b", event=("Shell", "Output"), command=("Slack", "Send")),
    )
    [started] = engine.process(post(stores, clock).id)
    result = finish(stores, clock, started.steps[0].action_id)
    outcomes = engine.process(result.id)
    continued = [o for o in outcomes if not o.started]
    new = [o for o in outcomes if o.started]
    assert continued[0].steps == ()
    assert new[0].correlation_id != started.correlation_id
    assert new[0].steps[0].status == "fired"


def test_a_step_fires_at_most_once_per_correlation(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(
        stores,
        step("a"),
        step("a2", command=("Shell", "Run2")),
        step(
            "b",
            event=("Shell", "Output"),
            command=("Slack", "Send"),
            dependsOn=["a", "a2"],
        ),
    )
    [started] = engine.process(post(stores, clock).id)
    first, second = (s.action_id for s in started.steps)
    [one] = engine.process(finish(stores, clock, first).id)
    [two] = engine.process(finish(stores, clock, second).id)
    assert one.steps[0].status == "fired"
    assert two.steps == ()


def test_a_correlation_keeps_its_flow_version(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(
        stores,
        step("a"),
        step("b", event=("Shell", "Output"), dependsOn=["a"], input="v1"),
    )
    [started] = engine.process(post(stores, clock).id)
    add_flow(
        stores,
        step("a"),
        step("b", event=("Shell", "Output"), dependsOn=["a"], input="v2"),
    )
    stores.flows.delete("f")
    [continued] = engine.process(finish(stores, clock, started.steps[0].action_id).id)
    assert stores.actions.get(continued.steps[0].action_id).input == "v1"


def test_a_result_before_its_action_is_finished_is_retried(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"))
    [started] = engine.process(post(stores, clock).id)
    early = post(stores, clock, name="Output", action_id=started.steps[0].action_id)
    with pytest.raises(ResultNotReady):
        engine.process(early.id)
    clock.advance(minutes=6)
    assert engine.process(early.id) == []
    assert stores.events.get(early.id).status is EventStatus.DISCARDED


def test_an_event_removed_by_the_api_is_ignored(engine: FlowEngine) -> None:
    assert engine.process("never-stored") == []


def test_the_orphan_window_is_configurable(stores: Stores, clock: FakeClock) -> None:
    # Given an engine that waits 10 s for an action to finish with its result
    engine = FlowEngine(
        stores, TemplateEngine(), clock=clock, orphan_after=timedelta(seconds=10)
    )
    add_flow(stores, step("a"))
    [started] = engine.process(post(stores, clock).id)
    early = post(stores, clock, name="Output", action_id=started.steps[0].action_id)
    # When the result is still not on its action after 11 s
    clock.advance(seconds=9)
    with pytest.raises(ResultNotReady, match=f"event={early.id}"):
        engine.process(early.id)
    clock.advance(seconds=2)
    # Then it is discarded as an orphan
    assert engine.process(early.id) == []
    assert stores.events.get(early.id).status is EventStatus.DISCARDED


def burn_cpu(seconds: float) -> None:
    """Spin for ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_render_out_of_time_once_is_rendered_again_and_the_step_fires(
    stores: Stores, clock: FakeClock
) -> None:
    # Given a step whose first render runs out of its 50 ms of CPU time
    calls: list[int] = []

    def slow_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            burn_cpu(0.1)
        return "x"

    engine = FlowEngine(
        stores,
        TemplateEngine(max_render_seconds=0.05),
        clock=clock,
        functions={"slow_once": slow_once},
    )
    add_flow(stores, step("a", input="{{ slow_once() }}{{ slow_once() }}"))
    # When the event is processed
    [outcome] = engine.process(post(stores, clock).id)
    # Then the step fired on the second render
    assert outcome.steps[0].status == "fired"
    assert stores.actions.get(outcome.steps[0].action_id).input == "xx"


def test_a_render_that_always_runs_out_of_time_is_a_step_error(
    stores: Stores, clock: FakeClock
) -> None:
    # Given a step whose template spins forever, and a 50 ms deadline
    engine = FlowEngine(stores, TemplateEngine(max_render_seconds=0.05), clock=clock)
    spin = (
        "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
    )
    add_flow(stores, step("a", input=spin))
    # When the event is processed
    started = time.thread_time()
    [outcome] = engine.process(post(stores, clock).id)
    # Then, after a bounded number of renders, the step records the limit
    assert outcome.steps[0].status == "error"
    assert "seconds of CPU time" in outcome.steps[0].reason
    assert time.thread_time() - started < DEFAULT_RENDER_ATTEMPTS * 0.05 + 1.0


def test_warm_up_compiles_every_template_and_stores_nothing(
    stores: Stores, clock: FakeClock
) -> None:
    # Given a flow, and an engine that has rendered nothing yet
    templates = TemplateEngine()
    engine = FlowEngine(stores, templates, clock=clock)
    add_flow(
        stores,
        step("a", criteria="{{ Event.Payload.n > 1 }}", input="{{ Event.Payload.n }}"),
    )
    # When it warms up
    assert engine.warm_up() == 1
    # Then it stored nothing, and the first event finds its templates compiled
    assert stores.db["action"].count_documents({}) == 0
    assert stores.db["event"].count_documents({}) == 0
    compiled = templates.cache_info().misses
    [outcome] = engine.process(post(stores, clock, payload={"n": 2}).id)
    assert outcome.steps[0].status == "fired"
    assert templates.cache_info().misses == compiled
