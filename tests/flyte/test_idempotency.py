"""Idempotent ingest in the pack runtime: the key's syntax, and every crash point.

A first request "dies" by raising ``ProcessDied``, a BaseException no handler
in the ingest path catches, at one of its steps; its retry then goes through a
healthy runtime on the same stores and queue, as another API process would.
The real Redis queue and a real worker show the event is processed once.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from typing import NoReturn

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.errors import IdempotencyKeyInFlight
from flyte.errors import InvalidIdempotencyKey
from flyte.errors import Unavailable
from flyte.event import Event
from flyte.flow import parse_flow
from flyte.idempotency import IN_FLIGHT_LEASE
from flyte.idempotency import IdempotencyKey
from flyte.pack import Pack
from flyte.runtime import Leases
from flyte.runtime import PackRuntime
from flyte.store import Stores
from flyte.store.events import EventStore
from flyte.store.idempotency import IdempotencyStore
from flyte.store.idempotency import KeyRecord
from flyte.store.idempotency import KeyState
from flyte.store.idempotency import key_record_id
from flyte.templating import build_engine
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.queue import DramatiqQueue

LEASES = Leases(seconds=600, max_attempts=3)
WINDOW = timedelta(days=1)
BODY = {"event": "ReceivedMessage", "payload": {"text": "echo hi", "channel": "C1"}}
KEY = IdempotencyKey("8e03978e-40d5-43e8-bc93-6894a57f9324")


class ProcessDied(BaseException):
    """The API process stopped here: nothing after this line runs."""


def die(*args: object, **kwargs: object) -> NoReturn:
    raise ProcessDied()


class DiesStoring(EventStore):
    add = die


class DiesCompleting(IdempotencyStore):
    complete = die


class DiesQueuing(DramatiqQueue):
    send_event = die


class QueueDown(DramatiqQueue):
    def send_event(self, event_id: str) -> NoReturn:
        raise Unavailable("Redis is unavailable (the test cut it)")


@pytest.fixture
def runtime(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> PackRuntime:
    """A healthy runtime with the Slack and Shell packs and the echo flow."""
    runtime = PackRuntime(stores, queue, LEASES, clock=clock)
    for name in ("Slack", "Shell"):
        runtime.register(Pack(id=name, name=name, last_seen=clock()))
    stores.flows.add(parse_flow(ECHO_FLOW, build_engine(settings).check_syntax))
    return runtime


def post(runtime: PackRuntime, body: Any = BODY) -> Event:
    return runtime.post_event("Slack", lambda: body, KEY)


def stored_event_ids(stores: Stores) -> list[str]:
    return [doc["_id"] for doc in stores.db["event"].find({}, {"_id": 1})]


def first_request_dies(
    crash_at: str, stores: Stores, broker: RedisBroker, clock: FakeClock
) -> None:
    """Run a first request that dies at ``crash_at``."""
    if crash_at == "store":
        stores = dataclasses.replace(stores, events=DiesStoring(stores.db))
    elif crash_at == "complete":
        stores = dataclasses.replace(stores, idempotency=DiesCompleting(stores.db))
    queue = (DiesQueuing if crash_at == "queue" else DramatiqQueue)(broker)
    with pytest.raises(ProcessDied):
        post(PackRuntime(stores, queue, LEASES, clock=clock))


@pytest.mark.parametrize("crash_at", ["store", "queue", "complete"])
def test_a_retry_after_the_first_api_died_gets_the_same_event_processed_once(
    crash_at: str,
    runtime: PackRuntime,
    stores: Stores,
    clock: FakeClock,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    first_request_dies(crash_at, stores, broker, clock)
    [record] = stores.db["idempotencyKey"].find()
    # A retry within the lease may not tell a dead first request from a slow one.
    with pytest.raises(IdempotencyKeyInFlight):
        post(runtime)
    clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds())
    retried = post(runtime)
    assert retried.id == record["eventId"]
    assert stored_event_ids(stores) == [retried.id]
    assert post(runtime).id == retried.id
    drain(broker, worker)
    taken = runtime.take("Shell", None)
    assert taken is not None and taken.input == "echo hi"
    assert runtime.take("Shell", None) is None


def test_a_failed_queue_keeps_the_event_for_an_immediate_retry(
    runtime: PackRuntime, stores: Stores, broker: RedisBroker, clock: FakeClock
) -> None:
    down = PackRuntime(stores, QueueDown(broker), LEASES, clock=clock)
    with pytest.raises(Unavailable):
        post(down)
    [kept] = stored_event_ids(stores)
    assert post(runtime).id == kept  # released: no wait for the lease
    assert stored_event_ids(stores) == [kept]


def test_of_many_retries_of_a_dead_request_one_finishes_it(
    runtime: PackRuntime, stores: Stores, broker: RedisBroker, clock: FakeClock
) -> None:
    first_request_dies("store", stores, broker, clock)
    clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds())

    def retry(_: int) -> str:
        try:
            return post(runtime).id
        except IdempotencyKeyInFlight:
            return "409"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(retry, range(8)))
    [event_id] = stored_event_ids(stores)
    assert set(answers) <= {event_id, "409"}
    assert event_id in answers


def test_a_request_without_a_key_is_not_recorded(
    runtime: PackRuntime, stores: Stores
) -> None:
    runtime.post_event("Slack", lambda: BODY)
    assert list(stores.db["idempotencyKey"].find()) == []


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ('"abc"', "abc"),
        ("abc", "abc"),
        (' "a b" ', "a b"),
        ('"say \\"hi\\" \\\\o/"', 'say "hi" \\o/'),
        (
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
            "8e03978e-40d5-43e8-bc93-6894a57f9324",
        ),
        ('"' + "k" * 255 + '"', "k" * 255),
    ],
)
def test_a_key_is_an_sf_string_or_a_bare_token(header: str, key: str) -> None:
    assert IdempotencyKey.parse(header).value == key


@pytest.mark.parametrize("header", ["", '""', "a b", '"a', '"é"', '"a";x=1', "k" * 256])
def test_a_malformed_key_is_refused(header: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        IdempotencyKey.parse(header)


def test_the_fingerprint_ignores_key_order_and_whitespace_but_not_the_media_type() -> (
    None
):
    json_key = IdempotencyKey.parse("k", "application/json; charset=utf-8")
    assert json_key.media_type == "application/json"
    assert json_key.fingerprint({"a": 1, "b": [1, 2]}) == json_key.fingerprint(
        {"b": [1, 2], "a": 1}
    )
    assert json_key.fingerprint({"a": 1}) != json_key.fingerprint({"a": 2})
    yaml_key = IdempotencyKey.parse("k", "application/x-yaml")
    assert yaml_key.fingerprint({"a": 1}) != json_key.fingerprint({"a": 1})


def test_a_done_record_is_answered_without_touching_the_event_store(
    runtime: PackRuntime, stores: Stores, clock: FakeClock
) -> None:
    record = KeyRecord(
        id=key_record_id("Slack", KEY.value),
        pack_id="Slack",
        key=KEY.value,
        fingerprint=KEY.fingerprint(BODY),
        event_id="e-expired",
        state=KeyState.DONE,
        claim="first",
        claimed_at=clock(),
        created_at=clock(),
    )
    stores.idempotency.begin(record, WINDOW)
    # The event itself may have expired before its key: the id is still the answer.
    assert post(runtime).id == "e-expired"
    assert stored_event_ids(stores) == []
