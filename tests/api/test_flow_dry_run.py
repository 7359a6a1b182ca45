"""POST /v1/flows/test: every step's verdict for a pretend event, storing nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.masking import MASKED
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore
from tests.conftest import FakeClock
from workers.queue import DramatiqQueue

YAML = {"Content-Type": "application/x-yaml"}
SECRET = "xoxb-dry-run-7d1e0c-secret"

DEPLOY = {
    "name": "deploy",
    "steps": [
        {
            "id": "ask",
            "event": {"packName": "Slack", "name": "Msg"},
            "context": {"who": "{{ Event.Payload.user }}"},
            "criteria": "{{ Event.Payload.text == 'deploy' }}",
            "command": {
                "packName": "Shell",
                "name": "Run",
                "input": "deploy {{ datastore('target') }} for {{ Context.who }}",
            },
        },
        {
            "id": "tell",
            "dependsOn": ["ask"],
            "event": {"packName": "Shell", "name": "Output"},
            "command": {
                "packName": "Slack",
                "name": "Send",
                "input": "{{ Context.who }}: {{ Event.Payload.out }}{{ Event.Nope }}",
            },
        },
    ],
}


def slack(text: str, **extra: Any) -> dict[str, Any]:
    return {"packName": "Slack", "name": "Msg", "payload": {"text": text, **extra}}


def dry_run(client: testing.TestClient, body: Any) -> testing.Result:
    return client.simulate_post("/v1/flows/test", json=body)


def test_a_stored_flow_fires_its_trigger_step_with_the_rendered_command(
    client: testing.TestClient, stores: Stores
) -> None:
    stores.datastore.put(DatastoreItem("target", value=b"prod"))
    client.simulate_post("/v1/flows", json=DEPLOY)
    resp = dry_run(client, {"flow": "deploy", "event": slack("deploy", user="ann")})
    assert resp.status_code == 200, resp.text
    assert resp.json == {
        "flow": "deploy",
        "enabled": True,
        "kind": "started",
        "fired": True,
        "steps": [
            {
                "id": "ask",
                "status": "fired",
                "context": {"who": "ann"},
                "command": {
                    "name": "Run",
                    "packName": "Shell",
                    "packLabels": {},
                    "input": "deploy prod for ann",
                },
                "undefined": [],
            },
            {
                "id": "tell",
                "status": "skipped",
                "reason": "listens to Shell/Output, not Slack/Msg",
                "undefined": [],
            },
        ],
    }


def test_a_flow_document_in_yaml_skips_on_false_criteria_with_the_reason(
    client: testing.TestClient,
) -> None:
    body = {"flow": DEPLOY, "event": slack("hello")}
    resp = client.simulate_post(
        "/v1/flows/test", body=yaml.safe_dump(body), headers=YAML
    )
    assert resp.status_code == 200, resp.text
    ask = resp.json["steps"][0]
    assert (ask["status"], ask["reason"]) == ("skipped", "criteria false")
    assert ask["context"] == {"who": ""}
    assert ask["undefined"] == ["Event.Payload.user"]
    assert resp.json["fired"] is False


def test_a_result_event_continues_from_the_step_it_answers(
    client: testing.TestClient,
) -> None:
    event = {"packName": "Shell", "name": "Output", "payload": {"out": "done"}}
    answers = {"step": "ask", "context": {"who": "ann"}}
    resp = dry_run(client, {"flow": DEPLOY, "event": event, "answers": answers})
    assert resp.status_code == 200, resp.text
    assert resp.json["kind"] == "continued"
    ask, tell = resp.json["steps"]
    assert ask["status"] == "skipped"
    assert tell["status"] == "fired"
    assert tell["command"]["input"] == "ann: done"
    assert tell["undefined"] == ["Event.Nope"]


def test_a_failing_template_is_an_error_with_its_message(
    client: testing.TestClient,
) -> None:
    resp = dry_run(client, {"flow": DEPLOY, "event": slack("deploy", user="ann")})
    ask = resp.json["steps"][0]
    assert ask["status"] == "error"
    assert "cannot find datastore item key=target" in ask["reason"]
    assert resp.json["fired"] is False


def test_a_strict_step_with_an_undefined_name_is_an_error_naming_it(
    client: testing.TestClient, stores: Stores
) -> None:
    stores.datastore.put(DatastoreItem("target", value=b"prod"))
    flow = {**DEPLOY, "strict": True}
    resp = dry_run(client, {"flow": flow, "event": slack("deploy")})
    ask = resp.json["steps"][0]
    assert ask["status"] == "error"
    assert ask["reason"] == (
        "strict: undefined value in the step's templates: Event.Payload.user"
    )
    assert resp.json["fired"] is False


def test_the_dry_run_writes_nothing_to_any_collection(
    client: testing.TestClient, stores: Stores
) -> None:
    # Given a stored flow, a pack, an event it sent and a datastore item
    client.simulate_post("/v1/flows", json=DEPLOY)
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs/Slack/events", json={"event": "Other"})
    stores.datastore.put(DatastoreItem("target", value=b"prod"))
    before = snapshot(stores)
    assert before["flow"] and before["pack"] and before["event"]
    # When flows fire in dry runs
    for flow in ("deploy", DEPLOY):
        resp = dry_run(client, {"flow": flow, "event": slack("deploy")})
        assert resp.json["fired"] is True
    # Then every collection holds exactly what it held (counts and documents)
    assert snapshot(stores) == before


def snapshot(stores: Stores) -> dict[str, list[Any]]:
    """Every document of every collection, in _id order."""
    db = stores.db
    return {
        name: list(db[name].find({}).sort("_id", 1))
        for name in sorted(db.list_collection_names())
    }


def test_an_unknown_stored_flow_is_404(client: testing.TestClient) -> None:
    resp = dry_run(client, {"flow": "nope", "event": slack("x")})
    assert resp.status_code == 404


def test_a_bad_request_is_400_naming_every_problem(client: testing.TestClient) -> None:
    resp = dry_run(client, {"flow": 3, "event": {"packName": ""}, "extra": 1})
    assert resp.status_code == 400
    where = [p["location"] for p in resp.json["problems"]]
    assert where == ["$.extra", "$.flow", "$.event.packName", "$.event.name"]


def test_an_invalid_flow_document_is_400(client: testing.TestClient) -> None:
    resp = dry_run(client, {"flow": {"name": "x"}, "event": slack("x")})
    assert resp.status_code == 400
    assert resp.json["description"].startswith("invalid flow")


def test_answering_a_step_the_flow_lacks_is_400(client: testing.TestClient) -> None:
    body = {"flow": DEPLOY, "event": slack("x"), "answers": {"step": "nope"}}
    resp = dry_run(client, body)
    assert resp.status_code == 400
    assert resp.json["problems"][0]["location"] == "$.answers.step"


def test_a_flow_named_test_is_still_read_and_deleted_at_its_url(
    client: testing.TestClient,
) -> None:
    client.simulate_post("/v1/flows", json={**DEPLOY, "name": "test"})
    assert client.simulate_get("/v1/flows/test").json["name"] == "test"
    assert client.simulate_delete("/v1/flows/test").status_code == 204
    assert client.simulate_get("/v1/flows/test").status_code == 404


def test_secrets_are_read_for_the_dry_run_and_masked_in_its_answer(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    # Given a secret in a datastore with a key, and a flow that sends it
    box = SecretBox(generate_key())
    secret_stores = dataclasses.replace(
        stores, datastore=DatastoreStore(stores.db, box)
    )
    secret_stores.datastore.put(
        DatastoreItem("slack-token", value=SECRET.encode(), secret=True)
    )
    deps = Dependencies(
        stores=secret_stores, queue=queue, health_checks={}, clock=clock
    )
    client = testing.TestClient(create_app(settings, deps))
    step = {
        "id": "send",
        "event": {"packName": "Slack", "name": "Msg"},
        "context": {"token": "{{ secret('slack-token') }}"},
        "criteria": "{{ secret('slack-token') != '' }}",
        "command": {
            "packName": "Slack",
            "name": "Send",
            "input": "{{ Context.token }}",
        },
    }
    flow = {"name": "notify", "steps": [step]}
    # When it is dry-run
    resp = dry_run(client, {"flow": flow, "event": slack("hi")})
    # Then the secret was found (the criteria held), and the answer masks it
    [verdict] = resp.json["steps"]
    assert verdict["status"] == "fired", verdict
    assert verdict["context"] == {"token": MASKED}
    assert verdict["command"]["input"] == MASKED
    assert SECRET not in resp.text


def test_the_dry_run_never_decrypts_a_secret(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    # Given a secret stored under one key, and a server holding another key
    DatastoreStore(stores.db, SecretBox(generate_key())).put(
        DatastoreItem("slack-token", value=SECRET.encode(), secret=True)
    )
    other_key = DatastoreStore(stores.db, SecretBox(generate_key()))
    deps = Dependencies(
        stores=dataclasses.replace(stores, datastore=other_key),
        queue=queue,
        health_checks={},
        clock=clock,
    )
    client = testing.TestClient(create_app(settings, deps))
    step = {
        "id": "send",
        "event": {"packName": "Slack", "name": "Msg"},
        "command": {
            "packName": "Slack",
            "name": "Send",
            "input": {"token": "{{ secret('slack-token') }}"},
        },
    }
    # When a flow reading it is dry-run
    resp = dry_run(
        client, {"flow": {"name": "notify", "steps": [step]}, "event": slack("hi")}
    )
    # Then it fires with the mask: decrypting would have failed under this key
    [verdict] = resp.json["steps"]
    assert verdict["status"] == "fired", verdict
    assert verdict["command"]["input"] == {"token": MASKED}
