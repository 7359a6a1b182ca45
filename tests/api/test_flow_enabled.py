"""PUT /v1/flows/{name}/enabled: pause and resume a flow; the list shows paused ones."""

from __future__ import annotations

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from tests.api.test_runtime import result_path
from tests.api.test_runtime import send
from tests.api.test_runtime import take
from tests.builders import ECHO_FLOW
from tests.conftest import drain

FLOW = {
    "name": "deploy",
    "steps": [
        {
            "id": "s",
            "event": {"name": "Msg", "packName": "Slack"},
            "command": {"name": "Run", "packName": "Shell"},
        }
    ],
}


def test_a_paused_flow_is_listed_with_enabled_false(
    client: testing.TestClient,
) -> None:
    client.simulate_post("/v1/flows", json=FLOW)
    client.simulate_post("/v1/flows", json={**FLOW, "name": "other"})
    resp = client.simulate_put("/v1/flows/deploy/enabled", json=False)
    assert (resp.status_code, resp.json) == (200, False)
    assert client.simulate_get("/v1/flows/deploy/enabled").json is False
    listed = {f["name"]: f for f in client.simulate_get("/v1/flows").json["flows"]}
    assert listed["deploy"]["enabled"] is False
    # An enabled flow's summary keeps upstream's exact shape
    assert "enabled" not in listed["other"]
    # The flow document itself is unchanged, so `apply` can take it back
    assert "enabled" not in client.simulate_get("/v1/flows/deploy").json


def test_resuming_removes_the_mark(client: testing.TestClient) -> None:
    client.simulate_post("/v1/flows", json=FLOW)
    client.simulate_put("/v1/flows/deploy/enabled", json=False)
    resp = client.simulate_put("/v1/flows/deploy/enabled", json=True)
    assert resp.json is True
    [summary] = client.simulate_get("/v1/flows").json["flows"]
    assert "enabled" not in summary


def test_the_dry_run_says_a_paused_flow_would_start_nothing(
    client: testing.TestClient,
) -> None:
    client.simulate_post("/v1/flows", json=FLOW)
    client.simulate_put("/v1/flows/deploy/enabled", json=False)
    event = {"packName": "Slack", "name": "Msg"}
    resp = client.simulate_post(
        "/v1/flows/test", json={"flow": "deploy", "event": event}
    )
    assert resp.json["enabled"] is False
    assert resp.json["note"].startswith("flow disabled")


def test_a_body_other_than_true_or_false_is_400(client: testing.TestClient) -> None:
    client.simulate_post("/v1/flows", json=FLOW)
    resp = client.simulate_put("/v1/flows/deploy/enabled", json="no")
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$", "message": "expected true or false"}
    ]


def test_an_unknown_flow_is_404(client: testing.TestClient) -> None:
    assert client.simulate_put("/v1/flows/nope/enabled", json=False).status_code == 404
    assert client.simulate_get("/v1/flows/nope/enabled").status_code == 404


def test_an_event_through_the_pipeline_says_flow_disabled_while_running_work_ends(
    client: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    # Given the echo flow with one execution started, then paused
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    client.simulate_post("/v1/flows", json=ECHO_FLOW)
    send(client, "echo one")
    drain(broker, worker)
    path = result_path(take(client, "Shell"))
    client.simulate_put("/v1/flows/echo/enabled", json=False)
    # When a new event arrives, and the running execution's result
    later = send(client, "echo two").json["id"]
    result = client.simulate_post(
        path, json={"event": "Output", "payload": {"stdout": "one"}}
    ).json["id"]
    drain(broker, worker)
    # Then the new event started nothing, saying why
    [skipped] = client.simulate_get(f"/v1/events/{later}").json["flows"]
    assert (skipped["flow"], skipped["reason"], skipped["steps"]) == (
        "echo",
        "flow disabled",
        [],
    )
    # And the running execution went on to its reply
    [continued] = client.simulate_get(f"/v1/events/{result}").json["flows"]
    assert continued["kind"] == "continued"
    assert [(s["id"], s["status"]) for s in continued["steps"]] == [("reply", "fired")]
    assert take(client, "Slack").json["command"] == "SendMessage"
