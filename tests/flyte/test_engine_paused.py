"""Paused flows: no new correlation, running ones go on, the state survives versions."""

from __future__ import annotations

import pytest

from flyte.engine import FLOW_DISABLED
from flyte.engine import FlowEngine
from flyte.errors import FlowNotFound
from flyte.outcome import OutcomeKind
from flyte.store import Stores
from tests.conftest import FakeClock
from tests.flyte.test_engine import add_flow
from tests.flyte.test_engine import finish
from tests.flyte.test_engine import post
from tests.flyte.test_engine import step


def test_a_paused_flow_starts_no_correlation_and_the_outcome_says_so(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"), name="paused")
    add_flow(stores, step("a"), name="running")
    stores.flows.set_enabled("paused", False)
    event = post(stores, clock)
    paused, running = engine.process(event.id)
    assert (paused.flow_name, paused.reason, paused.steps) == (
        "paused",
        FLOW_DISABLED,
        (),
    )
    assert paused.kind is OutcomeKind.STARTED
    assert stores.actions.find_by_correlation(paused.correlation_id) == []
    assert running.steps[0].status == "fired"


def test_a_correlation_already_running_goes_on_while_its_flow_is_paused(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    # Given a correlation whose first step fired before the flow was paused
    add_flow(
        stores,
        step("first"),
        step("second", event=("Shell", "Output"), dependsOn=["first"]),
        name="two_steps",
    )
    [started] = engine.process(post(stores, clock).id)
    action_id = started.steps[0].action_id
    assert action_id is not None
    stores.flows.set_enabled("two_steps", False)
    # When the first step's result arrives
    result = finish(stores, clock, action_id)
    [continued] = engine.process(result.id)
    # Then the correlation continues: running work is not stranded
    assert continued.kind is OutcomeKind.CONTINUED
    assert [(s.step_id, s.status) for s in continued.steps] == [("second", "fired")]
    # And a new event still starts nothing
    [skipped] = engine.process(post(stores, clock).id)
    assert skipped.reason == FLOW_DISABLED


def test_resuming_a_flow_starts_correlations_again(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"), name="f")
    stores.flows.set_enabled("f", False)
    assert stores.flows.set_enabled("f", True).enabled
    [outcome] = engine.process(post(stores, clock).id)
    assert outcome.steps[0].status == "fired"


def test_a_new_version_of_a_paused_flow_stays_paused(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a"), name="f")
    stores.flows.set_enabled("f", False)
    add_flow(stores, step("a"), step("b"), name="f")
    assert not stores.flows.get("f").enabled
    assert [f.enabled for f in stores.flows.list_flows()] == [False]
    [outcome] = engine.process(post(stores, clock).id)
    assert outcome.reason == FLOW_DISABLED


def test_pausing_an_unknown_flow_raises_flow_not_found(stores: Stores) -> None:
    with pytest.raises(FlowNotFound):
        stores.flows.set_enabled("nope", False)
