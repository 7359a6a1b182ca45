"""The flows API: versions, exact list shape, and 400s that name every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from falcon import testing

from flyte.store import Stores

FLOWS = Path(__file__).resolve().parents[1] / "data" / "flows"
QUICKSTART = (FLOWS / "quickstart.yaml").read_text()
YAML = {"Content-Type": "application/x-yaml"}


def simple_flow(name: str = "deploy", **extra: object) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {
                "id": "s",
                "event": {"name": "Msg", "packName": "Slack"},
                "command": {"name": "Run", "packName": "Shell"},
            }
        ],
        **extra,
    }


def test_post_yaml_flow_answers_201_with_location(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/flows", body=QUICKSTART, headers=YAML)
    assert resp.status_code == 201
    assert (
        resp.headers["location"] == "http://example.com/v1/flows/next_uk_bank_holidays"
    )
    assert resp.json["name"] == "next_uk_bank_holidays"


def test_get_returns_the_flow_as_posted_with_links(client: testing.TestClient) -> None:
    client.simulate_post("/v1/flows", body=QUICKSTART, headers=YAML)
    body = client.simulate_get("/v1/flows/next_uk_bank_holidays").json
    posted = yaml.safe_load(QUICKSTART)
    assert body["steps"][0]["context"] == posted["steps"][0]["context"]
    assert (
        body["steps"][1]["command"]["input"] == posted["steps"][1]["command"]["input"]
    )
    assert body["links"] == [
        {"href": "http://example.com/v1/flows/next_uk_bank_holidays", "rel": "self"},
        {"href": "http://example.com/v1/flows", "rel": "up"},
        {"href": "http://example.com/swagger#/flow", "rel": "help"},
    ]


def test_json_flow_is_accepted(client: testing.TestClient) -> None:
    assert client.simulate_post("/v1/flows", json=simple_flow()).status_code == 201


def test_list_is_sorted_by_name_in_upstreams_exact_shape(
    client: testing.TestClient,
) -> None:
    client.simulate_post("/v1/flows", json=simple_flow("flowB", description="second"))
    client.simulate_post("/v1/flows", json=simple_flow("flowA"))
    resp = client.simulate_get("/v1/flows")
    assert resp.text.index('"flows"') < resp.text.index('"links"')
    assert resp.json == {
        "flows": [
            {
                "name": "flowA",
                "links": [{"href": "http://example.com/v1/flows/flowA", "rel": "self"}],
            },
            {
                "name": "flowB",
                "description": "second",
                "links": [{"href": "http://example.com/v1/flows/flowB", "rel": "self"}],
            },
        ],
        "links": [
            {"href": "http://example.com/v1/flows", "rel": "self"},
            {"href": "http://example.com/v1", "rel": "up"},
            {"href": "http://example.com/swagger#/flow", "rel": "help"},
        ],
    }


def test_empty_list_is_an_empty_array(client: testing.TestClient) -> None:
    assert client.simulate_get("/v1/flows").json["flows"] == []


def test_repost_creates_a_new_version_and_keeps_the_old(
    client: testing.TestClient, stores: Stores
) -> None:
    client.simulate_post("/v1/flows", json=simple_flow(description="v1"))
    first = stores.flows.get("deploy").uuid
    assert (
        client.simulate_post(
            "/v1/flows", json=simple_flow(description="v2")
        ).status_code
        == 201
    )
    assert client.simulate_get("/v1/flows/deploy").json["description"] == "v2"
    assert stores.flows.get_version(first).description == "v1"


def test_generated_step_ids_show_in_get(client: testing.TestClient) -> None:
    flow = simple_flow()
    del flow["steps"][0]["id"]
    client.simulate_post("/v1/flows", json=flow)
    assert client.simulate_get("/v1/flows/deploy").json["steps"][0]["id"] == "step-1"


def test_delete_answers_204_then_404(client: testing.TestClient) -> None:
    client.simulate_post("/v1/flows", json=simple_flow())
    assert client.simulate_delete("/v1/flows/deploy").status_code == 204
    assert client.simulate_get("/v1/flows/deploy").status_code == 404
    assert client.simulate_delete("/v1/flows/deploy").status_code == 404


def test_unknown_flow_is_404(client: testing.TestClient) -> None:
    resp = client.simulate_get("/v1/flows/nope")
    assert resp.status_code == 404
    assert "nope" in resp.json["description"]


def test_bad_flow_is_400_listing_every_problem(client: testing.TestClient) -> None:
    flow = simple_flow()
    flow["steps"].append(
        {
            "id": "s",
            "dependsOn": ["ghost"],
            "event": {"name": "Out", "packName": "Shell"},
            "criteria": "{{ broken",
            "command": {"name": "Run", "packName": "Shell"},
        }
    )
    resp = client.simulate_post("/v1/flows", json=flow)
    assert resp.status_code == 400
    problems = resp.json["problems"]
    assert [(p["location"], p["step"]) for p in problems] == [
        ("$.steps[1].id", "s"),
        ("$.steps[1].dependsOn[0]", "s"),
        ("$.steps[1].criteria", "s"),
    ]
    assert client.simulate_get("/v1/flows/deploy").status_code == 404


def test_invalid_yaml_and_json_are_400(client: testing.TestClient) -> None:
    bad_yaml = client.simulate_post("/v1/flows", body="name: [", headers=YAML)
    assert bad_yaml.status_code == 400
    bad_json = client.simulate_post("/v1/flows", body="{")
    assert bad_json.status_code == 400


def test_schema_violation_is_400_not_500(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/flows", json={})
    assert resp.status_code == 400
    assert [p["location"] for p in resp.json["problems"]] == ["$.name", "$.steps"]


MISSPELLED = """\
name: shout
stepz: []
steps:
- id: run
  event: {packName: Slack, name: Msg}
  command: {packName: Shell, name: Shell, input: echo hi}
- id: shout
  dependson: [run]
  event: {packName: Shell, name: Output, packLables: {a: b}}
  command: {packName: Shell, name: Shell, inputs: echo HI}
"""


def test_misspelled_keys_are_400_naming_each_key_and_the_closest_known_one(
    client: testing.TestClient,
) -> None:
    resp = client.simulate_post("/v1/flows", body=MISSPELLED, headers=YAML)
    assert resp.status_code == 400
    assert [(p["location"], p["message"]) for p in resp.json["problems"]] == [
        ("$.stepz", "unknown key; did you mean `steps`?"),
        ("$.steps[1].dependson", "unknown key; did you mean `dependsOn`?"),
        ("$.steps[1].command.inputs", "unknown key; did you mean `input`?"),
        ("$.steps[1].event.packLables", "unknown key; did you mean `packLabels`?"),
    ]
    assert "did you mean `dependsOn`?" in resp.json["description"]
    assert client.simulate_get("/v1/flows/shout").status_code == 404


def test_upstreams_labels_key_in_a_step_still_loads_and_is_ignored(
    client: testing.TestClient,
) -> None:
    body = (FLOWS / "datastore_two_steps.yaml").read_text()
    assert client.simulate_post("/v1/flows", body=body, headers=YAML).status_code == 201
    tell = client.simulate_get("/v1/flows/notify_team").json["steps"][0]
    assert "labels" not in tell["command"]
    assert "packLabels" not in tell["command"]
