"""``datastore(key)`` in flows, on real stores: reference data, errors, outages."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.engine import FlowEngine
from flyte.errors import Unavailable
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import parse_flow
from flyte.outcome import StepStatus
from flyte.store import Stores
from flyte.store import connect
from flyte.store.datastore import DatastoreStore
from flyte.store.events import EventStatus
from flyte.templating import build_engine
from flyte.templating import template_functions
from tests.conftest import FakeClock
from tests.flyte.test_engine import add_flow
from tests.flyte.test_engine import check
from tests.flyte.test_engine import post
from tests.flyte.test_engine import step

TEAMS = DatastoreItem(
    key="teams",
    content_type="application/json",
    value=b'{"teama": {"email": "a@example.com", "oncall": true}}',
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "datastore.md"


def fire(stores: Stores, engine: FlowEngine, clock: FakeClock, **extra: Any) -> Any:
    """Run a one-step flow on a new event; return the step's outcome."""
    add_flow(stores, step("a", **extra))
    [outcome] = engine.process(post(stores, clock).id)
    return outcome.steps[0]


def test_a_json_item_is_read_as_a_map(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    stores.datastore.put(TEAMS)
    outcome = fire(
        stores, engine, clock, input={"to": "{{ datastore('teams').teama.email }}"}
    )
    assert outcome.status == "fired"
    assert stores.actions.get(outcome.action_id).input == {"to": "a@example.com"}


@pytest.mark.parametrize("content_type", ["text/json", "application/json; charset=x"])
def test_every_json_content_type_is_parsed(
    stores: Stores, engine: FlowEngine, clock: FakeClock, content_type: str
) -> None:
    stores.datastore.put(replace(TEAMS, content_type=content_type))
    outcome = fire(stores, engine, clock, input="{{ datastore('teams').teama.email }}")
    assert stores.actions.get(outcome.action_id).input == "a@example.com"


def test_other_content_types_are_read_as_text(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    stores.datastore.put(
        DatastoreItem(key="motd", content_type="text/plain", value="héllo".encode())
    )
    outcome = fire(stores, engine, clock, input="{{ datastore('motd')|upper }}")
    assert stores.actions.get(outcome.action_id).input == "HÉLLO"


def test_datastore_works_in_context_and_criteria(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    stores.datastore.put(TEAMS)
    outcome = fire(
        stores,
        engine,
        clock,
        context={"email": "{{ datastore('teams').teama.email }}"},
        criteria="{{ datastore('teams').teama.oncall }}",
        input="{{ Context.email }}",
    )
    assert outcome.status == "fired"
    assert stores.actions.get(outcome.action_id).input == "a@example.com"


def test_a_missing_item_is_a_step_error_recorded_on_the_event(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a", input="{{ datastore('nope') }}"))
    event = post(stores, clock)
    [outcome] = engine.process(event.id)
    [result] = outcome.steps
    assert result.status == "error"
    assert "cannot find datastore item key=nope: not found" in result.reason
    assert result.action_id is None
    record = stores.events.get(event.id)
    assert record.status is EventStatus.PROCESSED
    assert record.outcomes[0].steps[0].status is StepStatus.ERROR


def test_a_json_item_that_is_not_an_object_is_a_step_error(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    stores.datastore.put(replace(TEAMS, value=b"[1, 2]"))
    outcome = fire(stores, engine, clock, input="{{ datastore('teams') }}")
    assert outcome.status == "error"
    assert "cannot unmarshal datastore item key=teams" in outcome.reason


def test_an_item_changed_between_events_is_read_afresh(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    add_flow(stores, step("a", input="{{ datastore('motd') }}"))
    inputs = []
    for text in (b"one", b"two"):
        stores.datastore.put(DatastoreItem(key="motd", value=text))
        [outcome] = engine.process(post(stores, clock).id)
        inputs.append(stores.actions.get(outcome.steps[0].action_id).input)
    assert inputs == ["one", "two"]


def test_a_datastore_outage_propagates_and_the_event_stays_pending(
    settings: Settings, stores: Stores, clock: FakeClock
) -> None:
    # Given a flow that reads the datastore, and a datastore that does not answer
    dead = connect(
        replace(settings, mongo_uri="mongodb://127.0.0.1:1/", mongo_timeout_ms=200)
    )
    functions = template_functions(DatastoreStore(dead))
    engine = FlowEngine(
        stores, build_engine(settings), clock=clock, functions=functions
    )
    add_flow(stores, step("a", input="{{ datastore('teams') }}"))
    event = post(stores, clock)
    try:
        # When the engine processes the event, Then the outage escapes unwrapped
        with pytest.raises(Unavailable):
            engine.process(event.id)
    finally:
        dead.client.close()
    # So the worker retries it: nothing was recorded as a template error
    assert stores.events.get(event.id).status is EventStatus.PENDING
    assert stores.db["action"].count_documents({}) == 0


def test_the_example_of_docs_datastore_md_works(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    # Given the teams item and the example flow of the docs
    text = DOCS.read_text()
    teams = re.search(r"cat > teams.json <<'EOF'\n(.*?)\nEOF", text, re.S)
    flow = re.search(r"```yaml\n(name: build_failed.*?)```", text, re.S)
    assert teams is not None and flow is not None
    stores.datastore.put(
        DatastoreItem("teams", "application/json", "", teams.group(1).encode())
    )
    stores.flows.add(parse_flow(yaml.safe_load(flow.group(1)), check))
    # When CI reports a failed build of team b on main
    payload = {"team": "teamb", "branch": "main", "build": 42}
    event = Event(
        "e1", "BuildFailed", PackRef("CI", "CI", {}), clock(), clock(), payload
    )
    stores.events.add(event, clock())
    [outcome] = engine.process(event.id)
    # Then team b's channel gets a message naming its e-mail address
    action = stores.actions.get(outcome.steps[0].action_id)
    assert action.input == {
        "channel": "#team-b",
        "message": "Build 42 of teamb failed on main. Owner: team-b@example.com",
    }
