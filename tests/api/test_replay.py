"""POST /v1/events/{id}/replay: a stored event sent again, marked as a replay.

The real Redis broker carries the messages and a real Dramatiq worker runs the
engine, as for events packs post.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.auth import load_auth
from flyte.config import Settings
from flyte.store import Stores
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.broker import build_redis_broker
from workers.queue import DramatiqQueue

HOST = "http://example.com"


@pytest.fixture
def api(client: testing.TestClient) -> testing.TestClient:
    """The API with the Slack and Shell packs registered and the echo flow stored."""
    client.simulate_post("/v1/packs", json={"name": "Slack", "labels": {"env": "x"}})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def post_event(api: testing.TestClient, text: str) -> str:
    """Post a ReceivedMessage from Slack; return its id."""
    body = {"event": "ReceivedMessage", "payload": {"text": text, "channel": "C1"}}
    posted = api.simulate_post("/v1/packs/Slack.env.x/events", json=body)
    assert posted.status_code == 202
    event_id: str = posted.json["id"]
    return event_id


def replay(api: testing.TestClient, event_id: str) -> testing.Result:
    return api.simulate_post(f"/v1/events/{event_id}/replay")


def test_replay_is_202_with_the_new_event_s_location(
    api: testing.TestClient,
) -> None:
    original = post_event(api, "echo hi")
    replayed = replay(api, original)
    assert replayed.status_code == 202
    new_id = replayed.json["id"]
    assert new_id != original
    assert replayed.headers["location"] == f"{HOST}/v1/events/{new_id}"
    assert replayed.json == {
        "id": new_id,
        "replayOf": original,
        "links": [{"href": f"{HOST}/v1/events/{new_id}", "rel": "self"}],
    }


def test_the_replay_has_the_original_s_pack_name_and_payload(
    api: testing.TestClient, clock: FakeClock
) -> None:
    original = post_event(api, "echo hi")
    clock.advance(minutes=5)
    new_id = replay(api, original).json["id"]

    before = api.simulate_get(f"/v1/events/{original}").json
    after = api.simulate_get(f"/v1/events/{new_id}").json

    assert after["replayOf"] == original
    assert (after["event"], after["pack"], after["payload"]) == (
        before["event"],
        before["pack"],
        before["payload"],
    )
    assert after["pack"] == {
        "id": "Slack.env.x",
        "name": "Slack",
        "labels": {"env": "x"},
    }
    # A new event: created and received at the replay.
    assert after["receivedAt"] == after["createdAt"] == "2026-01-02T15:09:05Z"
    assert before["replays"] == [new_id]
    assert "replayOf" not in before and "replays" not in after


def test_a_replay_is_processed_by_the_engine_like_any_event(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, stores: Stores
) -> None:
    # Given an event that made the echo flow run once
    original = post_event(api, "echo again")
    drain(broker, worker)
    # When it is replayed
    new_id = replay(api, original).json["id"]
    drain(broker, worker)
    # Then the flow ran again: a second action for Shell, from the replay
    page = api.simulate_get(f"/v1/events/{new_id}").json
    assert page["status"] == "processed"
    [flow] = page["flows"]
    [step] = flow["steps"]
    assert step["status"] == "fired"
    taken = [
        api.simulate_post("/v1/packs/Shell/actions/take", body="null") for _ in range(3)
    ]
    assert [t.status_code for t in taken] == [200, 200, 204]
    assert [t.json["input"] for t in taken[:2]] == ["echo again", "echo again"]


def test_a_replay_can_be_replayed_and_each_knows_its_original(
    api: testing.TestClient,
) -> None:
    original = post_event(api, "echo hi")
    first = replay(api, original).json["id"]
    second = replay(api, first).json["id"]
    third = replay(api, original).json["id"]

    assert sorted(api.simulate_get(f"/v1/events/{original}").json["replays"]) == sorted(
        [first, third]
    )
    assert api.simulate_get(f"/v1/events/{second}").json["replayOf"] == first


def test_replaying_an_unknown_event_is_404_json(
    api: testing.TestClient, stores: Stores
) -> None:
    resp = replay(api, "nope")
    assert resp.status_code == 404
    assert resp.json["status"] == 404
    assert "nope" in resp.json["description"]
    assert stores.db["event"].count_documents({}) == 0


def test_redis_down_is_503_and_the_replay_is_not_kept(
    settings: Settings, stores: Stores, clock: FakeClock, api: testing.TestClient
) -> None:
    original = post_event(api, "echo hi")
    dead = build_redis_broker("redis://127.0.0.1:1/0")
    deps = Dependencies(
        stores=stores, queue=DramatiqQueue(dead), health_checks={}, clock=clock
    )
    resp = replay(testing.TestClient(create_app(settings, deps)), original)
    dead.close()
    assert resp.status_code == 503
    assert stores.db["event"].count_documents({}) == 1


def test_the_auth_policy_decides_who_may_replay(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    api: testing.TestClient,
    oidc_issuer: Issuer,
    tmp_path: Path,
) -> None:
    original = post_event(api, "echo hi")
    auth_settings = secured_settings(
        settings,
        oidc_issuer,
        tmp_path,
        "- path: /v1/events/:event/replay\n"
        "  methods: [POST]\n"
        "  claims:\n"
        "    groups: [operator]\n",
    )
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks={},
        auth=load_auth(auth_settings),
    )
    client = testing.TestClient(create_app(auth_settings, deps))
    path = f"/v1/events/{original}/replay"

    def as_group(group: str) -> int:
        token = oidc_issuer.token({"groups": [group]})
        headers = {"Authorization": f"Bearer {token}"}
        return client.simulate_post(path, headers=headers).status_code

    assert client.simulate_post(path).status_code == 401
    assert as_group("observer") == 401
    assert as_group("operator") == 202


def test_the_console_s_replay_button_opens_the_new_event_s_page(
    api: testing.TestClient, stores: Stores
) -> None:
    original = post_event(api, "echo hi")
    done = api.simulate_post(
        f"/console/events/{original}/replay",
        body="csrf_token=t",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "flyte_csrf=t",
        },
    )
    assert done.status_code == 303
    new_id = done.headers["Location"].rsplit("/", 1)[1]
    assert done.headers["Location"].endswith(f"/console/events/{new_id}")
    assert api.simulate_get(f"/v1/events/{new_id}").json["replayOf"] == original


def test_the_console_s_replay_of_an_unknown_event_is_the_404_page(
    api: testing.TestClient,
) -> None:
    done = api.simulate_post(
        "/console/events/nope/replay",
        body="csrf_token=t",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "flyte_csrf=t",
        },
    )
    assert done.status_code == 404
    assert 'id="not-found"' in done.text
