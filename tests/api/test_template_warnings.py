"""Undefined names in a step's templates: a warning on the event and in the audit,
and a step error when the flow or the step is strict. Through the real pipeline."""

from __future__ import annotations

from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from tests.conftest import drain

WARNING = 'Event.Payload.user.name.first is undefined (rendered as "")'


def greet_flow(**strict: bool) -> dict[str, Any]:
    """Greets Event.Payload.user.name.first; ``step``/``flow`` True make it strict."""
    step: dict[str, Any] = {
        "id": "greet",
        "event": {"packName": "Slack", "name": "ReceivedMessage"},
        "command": {
            "packName": "Slack",
            "name": "SendMessage",
            "input": "Hello, {{ Event.Payload.user.name.first|upper }}!",
        },
    }
    if strict.get("step"):
        step["strict"] = True
    flow: dict[str, Any] = {"name": "greet", "steps": [step]}
    if strict.get("flow"):
        flow["strict"] = True
    return flow


@pytest.fixture
def api(client: testing.TestClient) -> testing.TestClient:
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    return client


def send_without_user(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> dict[str, Any]:
    body = {"event": "ReceivedMessage", "payload": {"text": "hi"}}
    posted = api.simulate_post("/v1/packs/Slack/events", json=body)
    assert posted.status_code == 202, posted.text
    drain(broker, worker)
    page = api.simulate_get(f"/v1/events/{posted.json['id']}")
    assert page.status_code == 200
    return dict(page.json)


def test_an_undefined_name_fires_the_step_with_a_warning_on_the_event_and_audit(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    # Given a flow whose input reaches Event.Payload.user.name.first
    assert api.simulate_post("/v1/flows", json=greet_flow()).status_code == 201
    # When an event without user is sent
    event = send_without_user(api, broker, worker)
    # Then the step fired as upstream did, and its outcome names the undefined value
    [flow] = event["flows"]
    [step] = flow["steps"]
    assert step["status"] == "fired"
    assert step["warnings"] == [WARNING]
    # And the audit's evaluation of that step says the same
    execution = api.simulate_get(f"/v1/audit/flows/{flow['correlationId']}").json
    [evaluation] = execution["evaluations"]
    assert evaluation["warnings"] == [WARNING]
    # And the action's input is still upstream's rendering
    taken = api.simulate_post("/v1/packs/Slack/actions/take", body="null")
    assert taken.json["input"] == "Hello, !"


@pytest.mark.parametrize("where", ["step", "flow"])
def test_with_strict_an_undefined_name_is_a_step_error_naming_it(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, where: str
) -> None:
    # Given the same flow, strict on the step or on the whole flow
    flow = greet_flow(**{where: True})
    assert api.simulate_post("/v1/flows", json=flow).status_code == 201
    assert api.simulate_get("/v1/flows/greet").json.get("strict") is (
        True if where == "flow" else None
    )
    # When an event without user is sent
    event = send_without_user(api, broker, worker)
    # Then the step is an error naming the value, and no action was created
    [step] = event["flows"][0]["steps"]
    assert step["status"] == "error"
    assert step["reason"] == (
        "strict: undefined value in the step's templates: Event.Payload.user.name.first"
    )
    assert step["warnings"] == [WARNING]
    taken = api.simulate_post("/v1/packs/Slack/actions/take", body="null")
    assert taken.status_code == 204


def test_strict_must_be_a_boolean(api: testing.TestClient) -> None:
    flow = greet_flow()
    flow["strict"] = "yes"
    posted = api.simulate_post("/v1/flows", json=flow)
    assert posted.status_code == 400
    assert "$.strict" in posted.text
