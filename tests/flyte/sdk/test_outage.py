"""A pack whose API goes down backs off and says so once, then once when it is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Iterator

import pytest

from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.backoff import POLL_BACKOFF_MAX_SECONDS
from flyte.sdk.backoff import PollBackoff
from flyte.sdk.runner import PackRunner
from tests.flyte.sdk.upstream import UpstreamServer

#: Short enough for the test; a real pack polls no faster than every 0.5 s.
TEST_POLLING_INTERVAL = 0.05
OUTAGE_SECONDS = 1.0


@pytest.fixture
def upstream() -> Iterator[UpstreamServer]:
    server = UpstreamServer()
    yield server
    server.close()


def wait_until(condition: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def start_quick_pack(upstream: UpstreamServer) -> PackRunner:
    pack = Pack("Chat")

    @pack.command("SendMessage", events=["MessageSent"])
    def send(value: object) -> Event:
        return Event("MessageSent", value)

    pack.polling_interval = TEST_POLLING_INTERVAL
    return pack.start(ClientConfig(api_url=upstream.root, health_port=0))


def takes(upstream: UpstreamServer) -> int:
    return len(upstream.state.posted("/actions/take"))


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_an_outage_is_one_warning_with_backoff_then_one_line_when_back(
    upstream: UpstreamServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flyte.sdk")
    runner = start_quick_pack(upstream)
    try:
        upstream.state.unavailable = True
        time.sleep(OUTAGE_SECONDS)
        polls_in_outage = takes(upstream)
        upstream.state.unavailable = False
        wait_until(lambda: runner.backoff.failed_polls == 0)
    finally:
        runner.stop()
    # Without backoff, 1 s at 0.05 s would be about 20 polls; doubling gives 5.
    assert polls_in_outage <= 6
    warnings = messages(caplog, logging.WARNING)
    assert len(warnings) == 1, warnings
    assert "Pack Chat could not poll" in warnings[0]
    assert "answered 503" in warnings[0]
    back = [m for m in messages(caplog, logging.INFO) if "polls again" in m]
    assert len(back) == 1, back
    assert "failed poll(s)" in back[0]


def test_the_backoff_doubles_from_the_interval_up_to_its_bound() -> None:
    backoff = PollBackoff("Chat")
    delays = []
    for failures in (0, 1, 2, 3, 100):
        backoff.failed_polls = failures
        delays.append(backoff.delay(0.5))
    assert delays == [0.5, 1.0, 2.0, 4.0, POLL_BACKOFF_MAX_SECONDS]


def test_registering_logs_one_line_with_the_packs_id(
    upstream: UpstreamServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flyte.sdk")
    start_quick_pack(upstream).stop()
    registered = [m for m in messages(caplog, logging.INFO) if "registered" in m]
    assert registered == ["Pack Chat registered as Chat"]
