"""The Idempotency-Key header on POST /v1/packs/{pack}/events, through the real stores.

Events go through the real Redis queue to a real worker; ``CountingQueue`` only
counts what the API sends to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from api.app import Dependencies
from api.app import create_app
from api.app import load_openapi
from flyte.config import Settings
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.idempotency import IN_FLIGHT_LEASE
from flyte.idempotency import IdempotencyKey
from flyte.store import Stores
from flyte.store.idempotency import KeyRecord
from flyte.store.idempotency import KeyState
from flyte.store.idempotency import key_record_id
from tests.api.test_openapi import DOC_URI
from tests.api.test_openapi import assert_conforms
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.queue import DramatiqQueue

WINDOW = timedelta(days=1)
BODY = {"event": "ReceivedMessage", "payload": {"text": "echo hi", "channel": "C1"}}


class CountingQueue(DramatiqQueue):
    """The real Redis queue, counting the events sent to it."""

    def __init__(self, broker: RedisBroker) -> None:
        super().__init__(broker)
        self.sent: list[str] = []

    def send_event(self, event_id: str) -> None:
        """Queue the event and count it."""
        super().send_event(event_id)
        self.sent.append(event_id)


@pytest.fixture
def counting_queue(broker: RedisBroker) -> Iterator[CountingQueue]:
    yield CountingQueue(broker)
    broker.flush_all()


@pytest.fixture
def api(
    settings: Settings,
    stores: Stores,
    counting_queue: CountingQueue,
    redis_client: redis.Redis,
    clock: FakeClock,
) -> testing.TestClient:
    """The app with the Slack and Shell packs registered and the echo flow stored."""
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(
        stores=stores, queue=counting_queue, health_checks=checks, clock=clock
    )
    client = testing.TestClient(
        create_app(settings, deps), headers={"Host": "example.com"}
    )
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def send(
    api: testing.TestClient, key: str | None, body: Any = BODY, pack: str = "Slack"
) -> testing.Result:
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.simulate_post(f"/v1/packs/{pack}/events", json=body, headers=headers)


def stored_events(stores: Stores) -> int:
    return len(list(stores.db["event"].find({}, {"_id": 1})))


def test_a_repeated_key_answers_like_the_first_request_and_stores_nothing(
    api: testing.TestClient,
    stores: Stores,
    counting_queue: CountingQueue,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    first = send(api, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    again = send(api, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json == first.json
    assert again.headers["location"] == first.headers["location"]
    assert stored_events(stores) == 1
    assert counting_queue.sent == [first.json["id"]]
    drain(broker, worker)
    taken = api.simulate_post("/v1/packs/Shell/actions/take", body="null")
    assert taken.status_code == 200
    assert api.simulate_post("/v1/packs/Shell/actions/take").status_code == 204


def test_a_bare_token_key_works_like_the_quoted_string(
    api: testing.TestClient, stores: Stores
) -> None:
    quoted = send(api, '"abc-123"')
    bare = send(api, "abc-123")
    assert bare.json["id"] == quoted.json["id"]
    assert stored_events(stores) == 1


def test_the_same_key_with_another_body_is_422(
    api: testing.TestClient, stores: Stores
) -> None:
    send(api, "k1")
    other = {**BODY, "payload": {"text": "echo bye", "channel": "C1"}}
    resp = send(api, "k1", other)
    assert resp.status_code == 422
    assert resp.json["status"] == 422
    assert "different body" in resp.json["description"]
    assert stored_events(stores) == 1


def test_the_same_body_in_another_key_order_is_the_same_request(
    api: testing.TestClient,
) -> None:
    first = send(api, "k1", {"payload": BODY["payload"], "event": BODY["event"]})
    assert send(api, "k1").json["id"] == first.json["id"]


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    api: testing.TestClient, stores: Stores, clock: FakeClock
) -> None:
    # Given the first request claimed the key and is storing the event
    stores.idempotency.begin(in_flight("Slack", "k1", clock), WINDOW)
    resp = send(api, "k1")
    assert resp.status_code == 409
    assert resp.json["status"] == 409
    assert "still in progress" in resp.json["description"]
    assert stored_events(stores) == 0


def test_a_retry_finishes_a_request_whose_api_died_after_storing(
    api: testing.TestClient,
    stores: Stores,
    counting_queue: CountingQueue,
    clock: FakeClock,
) -> None:
    # Given an API process claimed the key, stored the event and died
    first = send(api, None)  # the event it stored (and its id)
    stores.idempotency.begin(
        in_flight("Slack", "k1", clock, event_id=first.json["id"]), WINDOW
    )
    # When the pack retries after the in-flight lease
    clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds())
    retry = send(api, "k1")
    assert retry.status_code == 202
    assert retry.json["id"] == first.json["id"]
    assert stored_events(stores) == 1
    # Queued again (at least once); the engine handles an event id once.
    assert counting_queue.sent == [first.json["id"]] * 2
    assert send(api, "k1").json["id"] == first.json["id"]
    assert len(counting_queue.sent) == 2


def test_keys_are_per_pack(api: testing.TestClient, stores: Stores) -> None:
    slack = send(api, "k1", {"event": "Output"}, pack="Slack")
    shell = send(api, "k1", {"event": "Output"}, pack="Shell")
    assert slack.json["id"] != shell.json["id"]
    assert stored_events(stores) == 2


def test_a_key_is_forgotten_after_the_window(
    api: testing.TestClient, stores: Stores, clock: FakeClock, settings: Settings
) -> None:
    first = send(api, "k1")
    clock.advance(seconds=settings.idempotency_window_seconds + 1)
    later = send(api, "k1", {"event": "Other"})
    assert later.status_code == 202
    assert later.json["id"] != first.json["id"]
    assert stored_events(stores) == 2


def test_without_the_header_every_post_is_a_new_event(
    api: testing.TestClient, stores: Stores
) -> None:
    assert send(api, None).json["id"] != send(api, None).json["id"]
    assert stored_events(stores) == 2


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "must be a quoted string"),
        ('""', "must not be empty"),
        ('"' + "k" * 256 + '"', "is 256 characters long; at most 255"),
        ("k" * 256, "at most 255"),
        ('"unterminated', "must be a quoted string"),
        ("two words", "must be a quoted string"),
        ('"bad \\n escape"', "must be a quoted string"),
    ],
)
def test_a_malformed_key_is_400_and_stores_nothing(
    api: testing.TestClient, stores: Stores, header: str, message: str
) -> None:
    resp = send(api, header)
    assert resp.status_code == 400
    assert resp.json["problems"][0]["location"] == "Idempotency-Key"
    assert message in resp.json["problems"][0]["message"]
    assert stored_events(stores) == 0


def test_a_malformed_body_does_not_use_up_the_key(api: testing.TestClient) -> None:
    bad = api.simulate_post(
        "/v1/packs/Slack/events", body="{", headers={"Idempotency-Key": "k1"}
    )
    assert bad.status_code == 400
    assert send(api, "k1").status_code == 202


def in_flight(
    pack_id: str, key: str, clock: FakeClock, event_id: str = "e-first"
) -> KeyRecord:
    """The record a first request leaves while it stores the event."""
    return KeyRecord(
        id=key_record_id(pack_id, key),
        pack_id=pack_id,
        key=key,
        fingerprint=IdempotencyKey(key).fingerprint(BODY),
        event_id=event_id,
        state=KeyState.IN_FLIGHT,
        claim="first",
        claimed_at=clock(),
        created_at=clock(),
    )


def test_the_answers_conform_to_the_openapi_document(
    api: testing.TestClient, stores: Stores, clock: FakeClock
) -> None:
    document = load_openapi()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOC_URI, resource)
    stores.idempotency.begin(in_flight("Slack", "busy", clock), WINDOW)
    answers = [
        send(api, "k1"),  # 202
        send(api, "k1"),  # 202, the same
        send(api, "k1", {"event": "Other"}),  # 422
        send(api, "busy"),  # 409
        send(api, '""'),  # 400
    ]
    assert [a.status_code for a in answers] == [202, 202, 422, 409, 400]
    for answer in answers:
        assert_conforms(answer, document, registry, "/v1/packs/{packId}/events", "POST")
