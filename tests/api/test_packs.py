"""The packs API: upstream's exact bodies (docs/upstream.md#packs), errors and YAML."""

from __future__ import annotations

import pytest
import yaml
from falcon import testing

from tests.builders import SLACK_HELP
from tests.builders import make_pack_body
from tests.conftest import FakeClock

TAKE_REL = "http://example.com/swagger#!/action/takeAction"


def expected_slack(
    last_seen: str = "2026-01-02T15:04:05Z", status: str = "live"
) -> dict[str, object]:
    """Upstream's unit-test body for the Slack pack (docs/upstream.md#pack-response)."""
    return {
        "id": "Slack",
        "name": "Slack",
        "commands": [
            {
                "name": "SendMessage",
                "events": ["MessageSent", "SendMessageFailed"],
                "links": [
                    {
                        "href": "http://example.com/v1/packs/Slack/actions/take"
                        "?commandName=SendMessage",
                        "rel": TAKE_REL,
                    }
                ],
            }
        ],
        "events": [{"name": "MessageSent"}, {"name": "SendMessageFailed"}],
        "lastSeen": last_seen,
        "status": status,
        "links": [
            {"href": SLACK_HELP, "rel": "help"},
            {"href": "http://example.com/v1/packs/Slack", "rel": "self"},
            {"href": "http://example.com/v1/packs", "rel": "up"},
            {"href": "http://example.com/v1/packs/Slack/actions/take", "rel": TAKE_REL},
            {
                "href": "http://example.com/v1/packs/Slack/events",
                "rel": "http://example.com/swagger#/event",
            },
        ],
    }


def test_register_answers_201_with_location_and_the_exact_body(
    client: testing.TestClient,
) -> None:
    resp = client.simulate_post("/v1/packs", json=make_pack_body())
    assert resp.status_code == 201
    assert resp.headers["location"] == "http://example.com/v1/packs/Slack"
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json == expected_slack()


def test_get_pack_returns_the_same_body(client: testing.TestClient) -> None:
    client.simulate_post("/v1/packs", json=make_pack_body())
    resp = client.simulate_get("/v1/packs/Slack")
    assert resp.status_code == 200
    assert resp.json == expected_slack()


def test_last_seen_reads_the_same_in_post_and_get_to_the_millisecond(
    client: testing.TestClient, clock: FakeClock
) -> None:
    # A registration at 15:04:05.71295 used to answer ...05.71295Z, then GET ...05.712Z.
    clock.now = clock.now.replace(microsecond=712950)
    posted = client.simulate_post("/v1/packs", json=make_pack_body())
    fetched = client.simulate_get("/v1/packs/Slack")
    listed = client.simulate_get("/v1/packs")
    assert posted.json["lastSeen"] == "2026-01-02T15:04:05.712Z"
    assert fetched.json["lastSeen"] == posted.json["lastSeen"]
    assert listed.json["packs"][0]["lastSeen"] == posted.json["lastSeen"]


def test_pack_id_is_name_then_sorted_labels(client: testing.TestClient) -> None:
    labels = {"x": "y", "env": "staging", "network": "lab"}
    resp = client.simulate_post(
        "/v1/packs", json=make_pack_body(name="Argo", labels=labels)
    )
    assert resp.json["id"] == "Argo.env.staging.network.lab.x.y"
    assert resp.json["labels"] == labels
    assert (
        client.simulate_get("/v1/packs/Argo.env.staging.network.lab.x.y").status_code
        == 200
    )


def test_empty_keys_are_omitted(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", json={"name": "Bare"})
    assert set(resp.json) == {"id", "name", "lastSeen", "status", "links"}


def test_command_without_events_shows_null_events(client: testing.TestClient) -> None:
    body = {"name": "Shell", "commands": [{"name": "Shell"}]}
    resp = client.simulate_post("/v1/packs", json=body)
    assert resp.json["commands"][0]["events"] is None


def test_ids_and_status_in_the_body_are_ignored(client: testing.TestClient) -> None:
    body = make_pack_body(
        id="Other", lastSeen="2000-01-01T00:00:00Z", status="critical"
    )
    assert client.simulate_post("/v1/packs", json=body).json == expected_slack()


def test_yaml_registration_is_accepted(client: testing.TestClient) -> None:
    resp = client.simulate_post(
        "/v1/packs",
        body=yaml.safe_dump(make_pack_body()),
        headers={"Content-Type": "application/x-yaml; charset=utf-8"},
    )
    assert resp.status_code == 201
    assert resp.json == expected_slack()


def test_json_without_a_json_content_type_is_accepted(
    client: testing.TestClient,
) -> None:
    # The upstream Python SDK posts JSON with no JSON content type.
    resp = client.simulate_post(
        "/v1/packs", body='{"name": "Py"}', headers={"Content-Type": "text/plain"}
    )
    assert resp.status_code == 201


def test_yaml_response_on_accept(client: testing.TestClient) -> None:
    client.simulate_post("/v1/packs", json=make_pack_body())
    resp = client.simulate_get(
        "/v1/packs/Slack", headers={"Accept": "application/x-yaml"}
    )
    assert resp.headers["content-type"] == "application/x-yaml; charset=utf-8"
    assert yaml.safe_load(resp.text) == expected_slack()


def test_list_packs_is_sorted_with_statuses_and_envelope(
    client: testing.TestClient, clock: FakeClock
) -> None:
    client.simulate_post("/v1/packs", json=make_pack_body(labels={"env": "dev"}))
    client.simulate_post("/v1/packs", json={"name": "HipChat"})
    clock.advance(minutes=10)
    client.simulate_post("/v1/packs", json={"name": "Argo"})
    resp = client.simulate_get("/v1/packs")
    assert resp.json == {
        "links": [
            {"href": "http://example.com/v1/packs", "rel": "self"},
            {"href": "http://example.com/v1", "rel": "up"},
            {"href": "http://example.com/swagger#/pack", "rel": "help"},
        ],
        "packs": [
            {
                "id": "Argo",
                "name": "Argo",
                "lastSeen": "2026-01-02T15:14:05Z",
                "status": "live",
                "links": [{"href": "http://example.com/v1/packs/Argo", "rel": "self"}],
            },
            {
                "id": "HipChat",
                "name": "HipChat",
                "lastSeen": "2026-01-02T15:04:05Z",
                "status": "warning",
                "links": [
                    {"href": "http://example.com/v1/packs/HipChat", "rel": "self"}
                ],
            },
            {
                "id": "Slack.env.dev",
                "name": "Slack",
                "labels": {"env": "dev"},
                "lastSeen": "2026-01-02T15:04:05Z",
                "status": "warning",
                "links": [
                    {"href": "http://example.com/v1/packs/Slack.env.dev", "rel": "self"}
                ],
            },
        ],
    }


def test_empty_pack_list_is_an_empty_array(client: testing.TestClient) -> None:
    assert client.simulate_get("/v1/packs").json["packs"] == []


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [
        ({"seconds": 0}, "live"),
        ({"minutes": 9, "seconds": 59}, "live"),
        ({"minutes": 10}, "warning"),
        ({"hours": 23, "minutes": 59}, "warning"),
        ({"hours": 24}, "critical"),
        ({"days": 356}, "critical"),
    ],
)
def test_status_follows_last_seen(
    client: testing.TestClient, clock: FakeClock, elapsed: dict[str, int], status: str
) -> None:
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    clock.advance(**elapsed)
    assert client.simulate_get("/v1/packs/Slack").json["status"] == status


def test_reregistration_refreshes_last_seen(
    client: testing.TestClient, clock: FakeClock
) -> None:
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    clock.advance(hours=2)
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    assert client.simulate_get("/v1/packs/Slack").json["status"] == "live"


def test_unknown_pack_is_404_json(client: testing.TestClient) -> None:
    resp = client.simulate_get("/v1/packs/Nope")
    assert resp.status_code == 404
    assert resp.json["status"] == 404
    assert "Nope" in resp.json["description"]


def test_delete_answers_204_then_404(client: testing.TestClient) -> None:
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    resp = client.simulate_delete("/v1/packs/Slack")
    assert resp.status_code == 204
    assert resp.text == ""
    assert client.simulate_get("/v1/packs/Slack").status_code == 404
    assert client.simulate_delete("/v1/packs/Slack").status_code == 404


def test_a_deleted_pack_that_just_called_gets_404_on_its_next_call(
    client: testing.TestClient,
) -> None:
    # Given a pack that has just taken (nothing), so this process remembers it
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    assert client.simulate_post("/v1/packs/Slack/actions/take").status_code == 204
    # When it is deleted
    assert client.simulate_delete("/v1/packs/Slack").status_code == 204
    # Then its next call is refused at once, so the pack registers again
    assert client.simulate_post("/v1/packs/Slack/actions/take").status_code == 404


@pytest.mark.parametrize(
    "rel",
    [
        "self",
        "up",
        "somewhere.com/actionResult",
        "somewhere.com/takeAction",
        "somewhere.com/something/event",
        "support",
    ],
)
def test_forbidden_pack_link_rel_is_400(client: testing.TestClient, rel: str) -> None:
    body = make_pack_body(links=[{"href": "http://x", "rel": rel}])
    resp = client.simulate_post("/v1/packs", json=body)
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$.links[0].rel", "message": f"rel {rel!r} is reserved for Flyte"}
    ]
    assert client.simulate_get("/v1/packs/Slack").status_code == 404


def test_command_and_event_links_are_not_checked(client: testing.TestClient) -> None:
    body = make_pack_body(
        events=[{"name": "E", "links": [{"href": "h", "rel": "self"}]}]
    )
    assert client.simulate_post("/v1/packs", json=body).status_code == 201


def test_malformed_json_is_400_with_position(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", body='{"name": "Slack",\n  oops}')
    assert resp.status_code == 400
    assert resp.json["problems"][0]["location"] == "line 2, column 3"
    assert "invalid JSON" in resp.json["problems"][0]["message"]


def test_malformed_yaml_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post(
        "/v1/packs",
        body="bad: yaml \nfoo",
        headers={"Content-Type": "application/x-yaml"},
    )
    assert resp.status_code == 400
    assert "invalid YAML" in resp.json["description"]


def test_empty_body_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", body="")
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$", "message": "request body is empty"}
    ]


def test_every_type_problem_is_reported_with_its_location(
    client: testing.TestClient,
) -> None:
    body = {
        "name": 3,
        "labels": {"env": 1},
        "commands": [{"name": "C", "events": ["ok", 2]}],
    }
    resp = client.simulate_post("/v1/packs", json=body)
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {
            "location": "$.commands[0].events[1]",
            "message": "must be string, not number",
        },
        {"location": "$.labels.env", "message": "must be string, not number"},
        {"location": "$.name", "message": "must be string, not number"},
    ]


def test_non_object_body_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", json=["Slack"])
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$", "message": "must be object, not array"}
    ]
