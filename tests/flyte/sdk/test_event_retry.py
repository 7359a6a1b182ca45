"""The SDK and the CLI send events with an Idempotency-Key and retry with it.

A faulty proxy in front of the real API (``live_api``) answers 503 or drops the
answer of a request the API did handle; the event must still be stored once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from flyte.sdk import Pack
from flyte.sdk import client as client_module
from flyte.sdk.client import ApiClient
from flyte.sdk.config import ClientConfig
from flyte.sdk.errors import ApiError
from flyte.sdk.errors import ApiUnreachable
from flyte.store import Stores
from tests.flyte.cli.cli import flyte
from tests.flyte.sdk.faulty_proxy import Faults
from tests.flyte.sdk.faulty_proxy import faulty_proxy
from tests.live import start

EVENTS = "/v1/packs/Chat/events"
QUOTED_UUID = re.compile(
    r'^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"$'
)


@pytest.fixture
def proxy(live_api: str) -> Iterator[tuple[str, Faults]]:
    """A faulty proxy to the real API, with the Chat pack registered."""
    assert httpx.post(f"{live_api}/v1/packs", json={"name": "Chat"}).status_code == 201
    with faulty_proxy(live_api) as served:
        yield served


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits between tries; the bounds themselves are unchanged."""
    monkeypatch.setattr(client_module, "EVENT_FIRST_DELAY", 0.01)
    monkeypatch.setattr(client_module, "EVENT_MAX_DELAY", 0.05)


def stored_events(stores: Stores) -> list[str]:
    return [doc["_id"] for doc in stores.db["event"].find({}, {"_id": 1})]


def test_an_event_answered_503_is_sent_again_with_the_same_key(
    proxy: tuple[str, Faults], stores: Stores
) -> None:
    url, faults = proxy
    faults.planned = ["503"]
    with ApiClient(ClientConfig(api_url=url)) as api:
        answer = api.post_event(EVENTS, {"event": "ReceivedMessage"})
    assert answer.status_code == 202
    first, second = faults.keys()
    assert first == second
    assert first is not None and QUOTED_UUID.match(first)
    assert stored_events(stores) == [answer.json()["id"]]


def test_an_event_whose_answer_was_lost_is_stored_once(
    proxy: tuple[str, Faults], stores: Stores
) -> None:
    url, faults = proxy
    faults.planned = ["drop"]  # the API stores it; the answer never arrives
    with ApiClient(ClientConfig(api_url=url)) as api:
        answer = api.post_event(EVENTS, {"event": "ReceivedMessage"})
    assert len(set(faults.keys())) == 1 and len(faults.keys()) == 2
    assert stored_events(stores) == [answer.json()["id"]]


def test_each_event_gets_a_key_of_its_own(proxy: tuple[str, Faults]) -> None:
    url, faults = proxy
    with ApiClient(ClientConfig(api_url=url)) as api:
        api.post_event(EVENTS, {"event": "A"})
        api.post_event(EVENTS, {"event": "A"})
    assert len(set(faults.keys())) == 2


@pytest.mark.usefixtures("fast_retries")
def test_sending_gives_up_after_five_tries(
    proxy: tuple[str, Faults], stores: Stores
) -> None:
    url, faults = proxy
    faults.planned = ["503"] * 6
    with ApiClient(ClientConfig(api_url=url)) as api, pytest.raises(ApiError) as ex:
        api.post_event(EVENTS, {"event": "A"})
    assert ex.value.status == 503
    assert len(faults.keys()) == client_module.EVENT_MAX_ATTEMPTS == 5
    assert stored_events(stores) == []


def test_a_refused_event_is_not_sent_again(proxy: tuple[str, Faults]) -> None:
    url, faults = proxy
    with ApiClient(ClientConfig(api_url=url)) as api, pytest.raises(ApiError) as ex:
        api.post_event(EVENTS, {"payload": "no name"})
    assert ex.value.status == 400
    assert len(faults.keys()) == 1


@pytest.mark.usefixtures("fast_retries")
def test_connection_errors_are_retried_within_the_bound(
    proxy: tuple[str, Faults], stores: Stores
) -> None:
    url, faults = proxy
    faults.planned = ["close"] * 4
    with ApiClient(ClientConfig(api_url=url)) as api:
        answer = api.post_event(EVENTS, {"event": "A"})
    assert len(faults.keys()) == 5 and len(set(faults.keys())) == 1
    assert stored_events(stores) == [answer.json()["id"]]
    faults.planned = ["close"] * 5
    with ApiClient(ClientConfig(api_url=url)) as api:
        with pytest.raises(ApiUnreachable):
            api.post_event(EVENTS, {"event": "A"})


def test_a_packs_send_event_survives_a_lost_answer(
    proxy: tuple[str, Faults], stores: Stores
) -> None:
    url, faults = proxy
    runner = start(Pack("Chat", events=["ReceivedMessage"]), url)
    try:
        faults.planned = ["drop"]
        location = runner.send_event("ReceivedMessage", {"text": "hi"})
    finally:
        runner.stop()
    [event_id] = stored_events(stores)
    assert location is not None and location.endswith(f"/v1/events/{event_id}")
    event_posts = [key for method, path, key in faults.seen if path == EVENTS]
    assert len(event_posts) == 2 and len(set(event_posts)) == 1


def test_the_cli_sends_an_event_once_despite_a_lost_answer(
    proxy: tuple[str, Faults], stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    url, faults = proxy
    faults.planned = ["drop"]
    run = flyte(capsys, url, "events", "send", "Chat", "ReceivedMessage", "--json")
    assert run.code == 0, run.err
    assert stored_events(stores) == [run.json()["id"]]
    assert len(faults.keys()) == 2 and len(set(faults.keys())) == 1
