"""Packs at run time over HTTP: events in, actions out, results back.

The real Redis broker carries the messages and a real Dramatiq worker (threads in
this process) runs the engine against the test database.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NoReturn

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.housekeeping import Housekeeper
from flyte.runtime import Leases
from flyte.runtime import PackRuntime
from flyte.store import Stores
from flyte.store import connect
from flyte.store import open_stores
from flyte.store.actions import ActionStore
from flyte.store.events import EventStatus
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.broker import build_broker
from workers.queue import DramatiqQueue

LEASES = Leases(seconds=600, max_attempts=3)
RESULT_REL = "http://example.com/swagger#/actionResult"


class FinishFails(ActionStore):
    """An action store whose database dies just as an action is finished."""

    def finish(self, *args: object, **kwargs: object) -> NoReturn:
        raise Unavailable("MongoDB is unavailable (the test cut it)")


@pytest.fixture
def api(client: testing.TestClient) -> testing.TestClient:
    """The API with the Slack and Shell packs registered and the echo flow stored."""
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def send(api: testing.TestClient, text: str, pack: str = "Slack") -> testing.Result:
    body = {"event": "ReceivedMessage", "payload": {"text": text, "channel": "C1"}}
    return api.simulate_post(f"/v1/packs/{pack}/events", json=body)


def take(api: testing.TestClient, pack: str, query: str = "") -> testing.Result:
    return api.simulate_post(
        f"/v1/packs/{pack}/actions/take", query_string=query, body="null"
    )


def result_path(taken: testing.Result) -> str:
    return taken.json["links"][0]["href"].removeprefix("http://example.com")


def test_an_event_becomes_a_takeable_action(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    posted = send(api, "echo hello")
    assert posted.status_code == 202
    assert (
        posted.headers["location"]
        == f"http://example.com/v1/events/{posted.json['id']}"
    )
    drain(broker, worker)
    taken = take(api, "Shell")
    assert taken.status_code == 200
    action_id = taken.json["links"][0]["href"].split("/")[-2]
    assert taken.json == {
        "command": "Shell",
        "input": "echo hello",
        "links": [
            {
                "href": f"http://example.com/v1/packs/Shell/actions/{action_id}/result",
                "rel": RESULT_REL,
            }
        ],
    }
    assert take(api, "Shell").status_code == 204


def test_the_event_page_says_what_fired_and_what_did_not(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    posted = send(api, "no echo here")
    drain(broker, worker)
    page = api.simulate_get(
        posted.headers["location"].removeprefix("http://example.com")
    )
    assert page.status_code == 200
    assert page.json["status"] == "processed"
    assert page.json["event"] == "ReceivedMessage"
    [flow] = page.json["flows"]
    assert flow["flow"] == "echo"
    assert flow["steps"] == [
        {"id": "ask", "status": "skipped", "reason": "criteria false"}
    ]


def test_a_result_continues_the_flow(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, stores: Stores
) -> None:
    send(api, "echo hi")
    drain(broker, worker)
    taken = take(api, "Shell")
    body = {"event": "Output", "payload": {"stdout": "hi", "exit_code": 0}}
    assert api.simulate_post(result_path(taken), json=body).status_code == 202
    drain(broker, worker)
    reply = take(api, "Slack", "commandName=SendMessage")
    assert reply.status_code == 200
    assert reply.json["input"] == {"channel": "C1", "text": "hi"}


def test_take_accepts_action_name_and_command_name(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    send(api, "echo one")
    drain(broker, worker)
    assert take(api, "Shell", "actionName=Other").status_code == 204
    assert take(api, "Shell", "commandName=Other").status_code == 204
    assert take(api, "Shell", "actionName=Shell").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/packs/Nope/events",
        "/v1/packs/Nope/actions/take",
        "/v1/packs/Nope/actions/abc/result",
    ],
)
def test_unknown_pack_is_404(api: testing.TestClient, path: str) -> None:
    resp = api.simulate_post(path, json={"event": "E"})
    assert resp.status_code == 404
    assert "Nope" in resp.json["description"]


def test_bad_event_is_400_and_still_refreshes_last_seen(
    api: testing.TestClient, clock: FakeClock
) -> None:
    clock.advance(hours=2)
    resp = api.simulate_post(
        "/v1/packs/Slack/events", json={"payload": 1, "createdAt": "x"}
    )
    assert resp.status_code == 400
    assert [p["location"] for p in resp.json["problems"]] == ["$.event", "$.createdAt"]
    assert api.simulate_get("/v1/packs/Slack").json["status"] == "live"


def test_created_at_is_kept_and_defaults_to_received_at(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    body = {"event": "ReceivedMessage", "createdAt": "2022-01-02T15:04:05Z"}
    posted = api.simulate_post("/v1/packs/Slack/events", json=body)
    page = api.simulate_get(f"/v1/events/{posted.json['id']}").json
    assert page["createdAt"] == "2022-01-02T15:04:05Z"
    assert page["receivedAt"] == "2026-01-02T15:04:05Z"
    assert page["pack"] == {"id": "Slack", "name": "Slack"}


def test_result_of_unknown_action_is_404(api: testing.TestClient) -> None:
    resp = api.simulate_post(
        "/v1/packs/Shell/actions/nope/result", json={"event": "Output"}
    )
    assert resp.status_code == 404


def test_result_from_another_pack_is_404(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    send(api, "echo x")
    drain(broker, worker)
    path = result_path(take(api, "Shell")).replace("/packs/Shell/", "/packs/Slack/")
    assert api.simulate_post(path, json={"event": "Output"}).status_code == 404


def test_second_result_is_a_409_conflict(
    api: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    send(api, "echo x")
    drain(broker, worker)
    path = result_path(take(api, "Shell"))
    assert api.simulate_post(path, json={"event": "Output"}).status_code == 202
    resp = api.simulate_post(path, json={"event": "Output"})
    assert resp.status_code == 409
    assert "SUCCESS" in resp.json["description"]


def test_a_result_for_an_action_never_taken_is_409_and_nothing_is_stored(
    api: testing.TestClient, broker: RedisBroker, worker: Worker, stores: Stores
) -> None:
    send(api, "echo x")
    drain(broker, worker)
    action = stores.db["action"].find_one({})
    assert action is not None
    path = f"/v1/packs/Shell/actions/{action['_id']}/result"
    resp = api.simulate_post(path, json={"event": "Output"})
    assert resp.status_code == 409
    assert "it is NEW" in resp.json["description"]
    assert stores.db["event"].count_documents({"actionId": action["_id"]}) == 0


def test_redis_down_is_503_and_the_event_is_not_kept(
    settings: Settings, stores: Stores, clock: FakeClock, api: testing.TestClient
) -> None:
    dead = build_broker(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    deps = Dependencies(
        stores=stores, queue=DramatiqQueue(dead), health_checks={}, clock=clock
    )
    client = testing.TestClient(create_app(settings, deps))
    resp = send(client, "echo lost?")
    dead.close()
    assert resp.status_code == 503
    assert "Redis" in resp.json["description"]
    assert stores.db["event"].count_documents({}) == 0


def test_mongo_down_is_503(settings: Settings, queue: DramatiqQueue) -> None:
    dead = connect(
        replace(settings, mongo_uri="mongodb://127.0.0.1:1/", mongo_timeout_ms=200)
    )
    deps = Dependencies(stores=open_stores(dead), queue=queue, health_checks={})
    resp = send(testing.TestClient(create_app(settings, deps)), "echo lost?")
    dead.client.close()
    assert resp.status_code == 503
    assert resp.json["status"] == 503


def test_a_result_after_a_rehandout_continues_even_if_an_earlier_one_was_orphaned(
    api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    queue: DramatiqQueue,
    housekeeper: Housekeeper,
    clock: FakeClock,
) -> None:
    send(api, "echo again")
    drain(broker, worker)
    first = take(api, "Shell")
    action_id = result_path(first).split("/")[-2]
    # Given MongoDB failed after the first hand-out's result was stored and queued,
    # before the action was finished: that result event is an orphan
    crashing = PackRuntime(
        replace(stores, actions=FinishFails(stores.db)), queue, LEASES, clock=clock
    )
    with pytest.raises(Unavailable):
        crashing.post_result("Shell", action_id, lambda: {"event": "Output"})
    [orphan_id] = [d["_id"] for d in stores.db["event"].find({"actionId": action_id})]
    clock.advance(minutes=6)
    drain(broker, worker)
    assert stores.events.get(orphan_id).status is EventStatus.DISCARDED
    # When the lease expires and the second hand-out reports its result
    clock.advance(minutes=10)
    housekeeper.expire_leases()
    second = take(api, "Shell")
    body = {"event": "Output", "payload": {"stdout": "again"}}
    posted = api.simulate_post(result_path(second), json=body)
    assert posted.status_code == 202
    assert posted.json["id"] != orphan_id
    drain(broker, worker)
    # Then the flow continues
    assert take(api, "Slack").json["input"]["text"] == "again"


def test_last_seen_is_written_at_most_every_five_seconds(
    api: testing.TestClient, stores: Stores, clock: FakeClock
) -> None:
    start = clock()
    take(api, "Shell")
    clock.advance(seconds=4)
    take(api, "Shell")
    assert stores.packs.get("Shell").last_seen == start
    clock.advance(seconds=2)
    take(api, "Shell")
    assert stores.packs.get("Shell").last_seen == clock()
