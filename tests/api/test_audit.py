"""The audit of flow executions over HTTP, through the real pipeline.

Packs register, a flow is posted, events go through the Redis broker to a real
Dramatiq worker, actions are taken and results posted; then the audit is read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.audit_query import MAX_LIMIT
from flyte.event import Event
from flyte.event import PackRef
from flyte.store import Stores
from tests.api.test_runtime import result_path
from tests.api.test_runtime import send
from tests.api.test_runtime import take
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain

BASE = "http://example.com"
ZERO_RESULT = {
    "event": "",
    "pack": {"id": "", "name": ""},
    "createdAt": "0001-01-01T00:00:00Z",
    "receivedAt": "0001-01-01T00:00:00Z",
}
LIST_LINKS = [
    {"href": f"{BASE}/v1/audit/flows", "rel": "self"},
    {"href": f"{BASE}/v1", "rel": "up"},
    {"href": f"{BASE}/swagger#/flowExecs", "rel": "help"},
]
#: Messages starting with "deploy " make Shell instances labelled env=prod deploy.
DEPLOY_FLOW = {
    "name": "deploy",
    "steps": [
        {
            "id": "deploy",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "criteria": "{{ Event.Payload.text|match:'^deploy ' }}",
            "command": {
                "packName": "Shell",
                "packLabels": {"env": "prod"},
                "name": "Deploy",
                "input": "{{ Event.Payload.text }}",
            },
        }
    ],
}
#: Three trigger steps on one event: one fires, one is false, one fails.
CHECKS_FLOW = {
    "name": "checks",
    "steps": [
        {
            "id": "fires",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "command": {"packName": "Shell", "name": "Shell", "input": "true"},
        },
        {
            "id": "never",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "criteria": "{{ Event.Payload.text == 'never' }}",
            "command": {"packName": "Shell", "name": "Shell"},
        },
        {
            "id": "broken",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "criteria": "{{ Event.Payload.missing.deeper }}",
            "command": {"packName": "Shell", "name": "Shell"},
        },
    ],
}


@pytest.fixture
def api(client: testing.TestClient) -> testing.TestClient:
    """Slack and Shell registered, and the echo flow stored."""
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def audit(api: testing.TestClient, query: str = "") -> testing.Result:
    return api.simulate_get("/v1/audit/flows", query_string=query)


def texts(result: testing.Result) -> list[str]:
    """The text of the message that started each listed execution."""
    return [flow["trigger"]["payload"]["text"] for flow in result.json["flows"]]


def correlation_of(api: testing.TestClient, posted: testing.Result) -> str:
    page = api.simulate_get(f"/v1/events/{posted.json['id']}").json
    [flow] = page["flows"]
    return str(flow["correlationId"])


def test_an_execution_is_upstreams_flow_exec_plus_trigger_and_evaluations(
    api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    clock: FakeClock,
) -> None:
    # Given an event fired the echo flow's first step, and Shell took the action
    posted = send(api, "echo hi")
    drain(broker, worker)
    clock.advance(seconds=1)
    action_id = result_path(take(api, "Shell")).split("/")[-2]
    event_id = posted.json["id"]
    correlation = correlation_of(api, posted)
    uuid = stores.flows.get("echo").uuid
    # When the audit is read
    listed = audit(api)
    # Then it is exactly this
    execution = {
        "name": "echo",
        "uuid": uuid,
        "correlationId": correlation,
        "steps": [
            {
                "id": "ask",
                "event": {"name": "ReceivedMessage", "packName": "Slack"},
                "context": {"channel": "{{ Event.Payload.channel }}"},
                "criteria": "{{ Event.Payload.text|match:'^echo ' }}",
                "command": {
                    "name": "Shell",
                    "packName": "Shell",
                    "input": "echo {{ Event.Payload.text|slice:'5:' }}",
                },
            },
            {
                "id": "reply",
                "dependsOn": ["ask"],
                "event": {"name": "Output", "packName": "Shell"},
                "command": {
                    "name": "SendMessage",
                    "packName": "Slack",
                    "input": {
                        "channel": "{{ Context.channel }}",
                        "text": "{{ Event.Payload.stdout }}",
                    },
                },
            },
        ],
        "actions": {
            "ask": {
                "id": action_id,
                "name": "Shell",
                "packName": "Shell",
                "input": "echo hi",
                "state": {"value": "PENDING", "time": "2026-01-02T15:04:06Z"},
                "states": [
                    {"value": "NEW", "time": "2026-01-02T15:04:05Z"},
                    {"value": "PENDING", "time": "2026-01-02T15:04:06Z"},
                ],
                "correlationId": correlation,
                "flowName": "echo",
                "flowUUID": uuid,
                "stepId": "ask",
                "context": {"channel": "C1"},
                "trigger": {
                    "event": "ReceivedMessage",
                    "pack": {"id": "Slack", "name": "Slack"},
                    "payload": {"text": "echo hi", "channel": "C1"},
                    "createdAt": "2026-01-02T15:04:05Z",
                    "receivedAt": "2026-01-02T15:04:05Z",
                },
                "result": ZERO_RESULT,
            }
        },
        "trigger": {
            "id": event_id,
            "event": "ReceivedMessage",
            "pack": {"id": "Slack", "name": "Slack"},
            "payload": {"text": "echo hi", "channel": "C1"},
            "createdAt": "2026-01-02T15:04:05Z",
            "receivedAt": "2026-01-02T15:04:05Z",
            "links": [{"href": f"{BASE}/v1/events/{event_id}", "rel": "self"}],
        },
        "evaluations": [
            {
                "eventId": event_id,
                "event": "ReceivedMessage",
                "stepId": "ask",
                "status": "fired",
                "actionId": action_id,
            }
        ],
        "links": [{"href": f"{BASE}/v1/audit/flows/{correlation}", "rel": "self"}],
    }
    assert listed.status_code == 200
    assert listed.json == {"flows": [execution], "links": LIST_LINKS}
    one = api.simulate_get(f"/v1/audit/flows/{correlation}")
    assert one.status_code == 200
    assert one.json == execution


def test_an_empty_audit_is_an_empty_list(api: testing.TestClient) -> None:
    result = audit(api)
    assert result.status_code == 200
    assert result.json == {"flows": [], "links": LIST_LINKS}


def test_a_result_finishes_the_action_and_continues_the_execution(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, clock: FakeClock
) -> None:
    send(api, "echo hi")
    drain(broker, worker)
    path = result_path(take(api, "Shell"))
    clock.advance(seconds=2)
    body = {"event": "Output", "payload": {"stdout": "hi"}}
    result_id = api.simulate_post(path, json=body).json["id"]
    drain(broker, worker)
    [execution] = audit(api).json["flows"]
    ask, reply = execution["actions"]["ask"], execution["actions"]["reply"]
    assert ask["state"] == {"value": "SUCCESS", "time": "2026-01-02T15:04:07Z"}
    assert ask["result"] == {
        "event": "Output",
        "pack": {"id": "Shell", "name": "Shell"},
        "payload": {"stdout": "hi"},
        "createdAt": "2026-01-02T15:04:07Z",
        "receivedAt": "2026-01-02T15:04:07Z",
    }
    assert reply["state"]["value"] == "NEW"
    assert reply["result"] == ZERO_RESULT
    assert reply["trigger"]["event"] == "Output"
    verdicts = [
        (e["eventId"], e["stepId"], e["status"]) for e in execution["evaluations"]
    ]
    assert verdicts[1:] == [(result_id, "reply", "fired")]
    # The trigger is still the event that started the execution.
    assert execution["trigger"]["event"] == "ReceivedMessage"


def test_executions_come_most_recently_active_first(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, clock: FakeClock
) -> None:
    for text in ("echo one", "echo two", "echo three"):
        send(api, text)
        drain(broker, worker)
        clock.advance(seconds=1)
    assert texts(audit(api)) == ["echo three", "echo two", "echo one"]
    # Taking the oldest action is activity: that execution moves to the top.
    assert take(api, "Shell").json["input"] == "echo one"
    assert texts(audit(api)) == ["echo one", "echo three", "echo two"]


@pytest.fixture
def mixed(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, clock: FakeClock
) -> testing.TestClient:
    """Three executions: echo finished its first step, echo waits, deploy waits."""
    assert api.simulate_post("/v1/flows", json=DEPLOY_FLOW).status_code == 201
    send(api, "echo replied")
    drain(broker, worker)
    path = result_path(take(api, "Shell", "commandName=Shell"))
    api.simulate_post(path, json={"event": "Output", "payload": {"stdout": "x"}})
    drain(broker, worker)
    for text in ("echo waiting", "deploy prod"):
        clock.advance(seconds=1)
        send(api, text)
        drain(broker, worker)
    return api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["deploy prod", "echo waiting", "echo replied"]),
        ("flowName=echo", ["echo waiting", "echo replied"]),
        ("stepId=reply", ["echo replied"]),
        ("actionName=SendMessage", ["echo replied"]),
        ("actionPackName=Slack", ["echo replied"]),
        ("actionPackLabels=env:prod", ["deploy prod"]),
        ("actionPackLabels= env : prod ,broken", ["deploy prod"]),
        ("actionPackLabels=env:dev", []),
        ("flowName=echo&actionPackName=Shell", ["echo waiting", "echo replied"]),
        ("flowName=deploy&stepId=ask", []),
        ("flowName=", ["deploy prod", "echo waiting", "echo replied"]),
    ],
)
def test_filters_select_executions_by_their_actions(
    mixed: testing.TestClient, query: str, expected: list[str]
) -> None:
    result = audit(mixed, query)
    assert result.status_code == 200
    assert texts(result) == expected


def test_a_filtered_execution_shows_all_of_its_actions(
    mixed: testing.TestClient,
) -> None:
    [execution] = audit(mixed, "stepId=reply").json["flows"]
    assert sorted(execution["actions"]) == ["ask", "reply"]


def test_start_and_limit_page_through_the_executions(
    mixed: testing.TestClient,
) -> None:
    assert texts(audit(mixed, "limit=2")) == ["deploy prod", "echo waiting"]
    assert texts(audit(mixed, "start=2&limit=2")) == ["echo replied"]
    assert texts(audit(mixed, "start=1")) == ["echo waiting", "echo replied"]
    assert texts(audit(mixed, "start=3")) == []


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("start=-1", "start"),
        ("start=ten", "start"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("actionPackLabels=$where:x", "actionPackLabels"),
    ],
)
def test_unusable_paging_is_a_400(
    api: testing.TestClient, query: str, location: str
) -> None:
    result = audit(api, query)
    assert result.status_code == 400
    assert result.json["title"] == "400 Bad Request"
    assert result.json["description"].startswith("invalid audit query: ")
    assert [p["location"] for p in result.json["problems"]] == [location]


def test_limit_is_capped(api: testing.TestClient, stores: Stores) -> None:
    # Given more executions than a page holds (stored directly: through the
    # pipeline they would take minutes)
    now = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
    action = Action(
        id="",
        name="Shell",
        pack_name="Shell",
        correlation_id="",
        flow_name="echo",
        flow_uuid=stores.flows.get("echo").uuid,
        step_id="ask",
        trigger=Event("e0", "ReceivedMessage", PackRef("Slack", "Slack"), now, now),
        states=(StateChange(ActionState.NEW, now),),
    )
    stores.actions.insert_many(
        [replace(action, id=f"a{n}", correlation_id=f"c{n}") for n in range(501)]
    )
    # Then a larger limit gives the largest page
    assert len(audit(api, "limit=100000").json["flows"]) == MAX_LIMIT
    assert len(audit(api, f"start={MAX_LIMIT}&limit=100000").json["flows"]) == 1


def test_an_unknown_execution_is_a_404(api: testing.TestClient) -> None:
    result = api.simulate_get("/v1/audit/flows/nope")
    assert result.status_code == 404
    assert result.json["description"] == "flow execution 'nope' not found"
    assert api.simulate_head("/v1/audit/flows/nope").status_code == 404


def test_head_answers_without_a_body(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    posted = send(api, "echo hi")
    drain(broker, worker)
    for path in ("/v1/audit/flows", f"/v1/audit/flows/{correlation_of(api, posted)}"):
        head = api.simulate_head(path)
        assert (head.status_code, head.content) == (200, b"")


def test_evaluations_show_the_steps_that_did_not_fire_and_why(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    assert api.simulate_post("/v1/flows", json=CHECKS_FLOW).status_code == 201
    posted = send(api, "hello")
    drain(broker, worker)
    [execution] = audit(api, "flowName=checks").json["flows"]
    assert execution["trigger"]["id"] == posted.json["id"]
    assert execution["trigger"]["payload"] == {"text": "hello", "channel": "C1"}
    fired, never, broken = execution["evaluations"]
    assert fired == {
        "eventId": posted.json["id"],
        "event": "ReceivedMessage",
        "stepId": "fires",
        "status": "fired",
        "actionId": execution["actions"]["fires"]["id"],
    }
    assert never == {
        "eventId": posted.json["id"],
        "event": "ReceivedMessage",
        "stepId": "never",
        "status": "skipped",
        "reason": "criteria false",
    }
    assert broken["stepId"] == "broken"
    assert broken["status"] == "error"
    assert broken["reason"].startswith("error while evaluating expression")
    assert list(execution["actions"]) == ["fires"]


def test_an_execution_where_nothing_fired_can_be_read_but_is_not_listed(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    posted = send(api, "no echo")
    drain(broker, worker)
    correlation = correlation_of(api, posted)
    one = api.simulate_get(f"/v1/audit/flows/{correlation}")
    assert one.status_code == 200
    assert one.json["actions"] == {}
    assert one.json["evaluations"][0]["reason"] == "criteria false"
    assert audit(api).json["flows"] == []
