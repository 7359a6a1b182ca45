"""The SDK against the Go API's exact contract: a pack written here runs there."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator

import pytest

from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.runner import PackRunner
from tests.flyte.sdk.upstream import UpstreamServer


@pytest.fixture
def upstream() -> Iterator[UpstreamServer]:
    server = UpstreamServer()
    yield server
    server.close()


def wait_until(condition: Callable[[], object], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def echo_pack() -> Pack:
    pack = Pack("Echo", polling_interval=0.5, help_url="https://help/echo")

    @pack.command("Echo", events=["Echoed"])
    def echo(value: object) -> Event:
        return Event("Echoed", {"echo": value})

    return pack


def start(pack: Pack, upstream: UpstreamServer, **config: object) -> PackRunner:
    return pack.start(ClientConfig(api_url=upstream.root, health_port=0, **config))


def test_registration_follows_the_links_and_sends_upstreams_body(
    upstream: UpstreamServer,
) -> None:
    runner = start(echo_pack(), upstream, labels={"env": "test"})
    try:
        (registration,) = upstream.state.posted("/flyte-api/v1/packs")
        assert registration.body == {
            "name": "Echo",
            "labels": {"env": "test"},
            "links": [{"href": "https://help/echo", "rel": "help"}],
            "events": [{"name": "Echoed"}],
            "commands": [{"name": "Echo", "events": ["Echoed"]}],
        }
        assert registration.headers["Content-Type"] == "application/json"
    finally:
        runner.stop()


def test_an_action_is_taken_handled_and_its_result_posted_with_created_at(
    upstream: UpstreamServer,
) -> None:
    upstream.state.queue_action("a1", "Echo", None)
    runner = start(echo_pack(), upstream)
    try:
        wait_until(lambda: upstream.state.posted("/actions/a1/result"))
        (result,) = upstream.state.posted("/actions/a1/result")
        assert result.body["event"] == "Echoed"
        assert result.body["payload"] == {"echo": None}
        assert result.body["createdAt"].endswith("Z")
        take = upstream.state.posted("/actions/take")[0]
        assert take.body is None  # the Go client's `null`
    finally:
        runner.stop()


def test_send_event_posts_to_the_event_link_and_accepts_an_empty_202(
    upstream: UpstreamServer,
) -> None:
    runner = start(echo_pack(), upstream)
    try:
        assert runner.send_event("Echoed", "spontaneous") is None
        (event,) = upstream.state.posted("/Echo/events")
        assert (event.body["event"], event.body["payload"]) == ("Echoed", "spontaneous")
    finally:
        runner.stop()


def test_registration_retries_after_server_errors(upstream: UpstreamServer) -> None:
    upstream.state.failing_registrations = 2
    started = time.monotonic()
    runner = start(echo_pack(), upstream)
    try:
        assert runner.registered
        assert len(upstream.state.posted("/flyte-api/v1/packs")) == 3
        assert time.monotonic() - started < 5  # backoff starts small
    finally:
        runner.stop()


def test_every_request_carries_the_jwt_as_a_bearer_token(
    upstream: UpstreamServer,
) -> None:
    upstream.state.queue_action("a1", "Echo", "x")
    runner = start(echo_pack(), upstream, jwt="header.payload.signature")
    try:
        wait_until(lambda: upstream.state.posted("/actions/a1/result"))
        runner.send_event("Echoed", None)
    finally:
        runner.stop()
    authorizations = {r.headers.get("Authorization") for r in upstream.state.requests}
    assert authorizations == {"Bearer header.payload.signature"}


def test_a_garbled_take_answer_does_not_stop_the_poll_loop(
    upstream: UpstreamServer,
) -> None:
    upstream.state.garbled_takes = 1
    upstream.state.queue_action("a1", "Echo", "after")
    runner = start(echo_pack(), upstream)
    try:
        wait_until(lambda: upstream.state.posted("/actions/a1/result"))
    finally:
        runner.stop()
