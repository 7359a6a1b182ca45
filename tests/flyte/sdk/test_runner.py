"""A pack run by the SDK against the real API, workers, MongoDB and Redis."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.errors import ApiError
from tests.live import WAIT_SECONDS
from tests.live import actions_of
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_actions

#: Long enough that a test passing quickly proves the loop did not wait for it.
SLOW_POLL = 5.0


def apply_flow(api: str, name: str, command: str = "Echo") -> None:
    post_flow(
        api,
        {
            "name": name,
            "steps": [
                {
                    "id": "run",
                    "event": {"packName": "Echo", "name": "Go"},
                    "command": {
                        "packName": "Echo",
                        "name": command,
                        "input": "{{ Event.Payload }}",
                    },
                }
            ],
        },
    )


def echo_pack(handler: Callable[[Any], Event] | None = None, **options: Any) -> Pack:
    pack = Pack("Echo", events=["Go"], **options)

    def echo(value: Any) -> Event:
        return Event("Echoed", {"echo": value})

    pack.add_command("Echo", handler or echo, events=["Echoed"])
    return pack


def test_a_flow_runs_through_the_pack_and_the_result_is_recorded(live_api: str) -> None:
    apply_flow(live_api, "echo")
    runner = start(echo_pack(polling_interval=0.5), live_api)
    try:
        location = runner.send_event("Go", {"n": 1})
        assert location and "/v1/events/" in location
        (action,) = wait_for_actions(live_api, "echo", 1, {"SUCCESS"})
    finally:
        runner.stop()
    assert action["result"]["event"] == "Echoed"
    assert action["result"]["payload"] == {"echo": '{"n":1}'}


def test_a_handler_that_raises_produces_a_fatal_event_saying_why(live_api: str) -> None:
    def explode(value: Any) -> Event:
        raise ValueError("boom")

    apply_flow(live_api, "explodes")
    runner = start(echo_pack(explode, polling_interval=0.5), live_api)
    try:
        runner.send_event("Go", None)
        (action,) = wait_for_actions(live_api, "explodes", 1, {"FATAL"})
    finally:
        runner.stop()
    assert action["result"]["event"] == "FATAL"
    assert action["result"]["payload"] == "ValueError: boom"


def test_an_unknown_command_produces_a_fatal_event(live_api: str) -> None:
    apply_flow(live_api, "unknown", command="Teleport")
    runner = start(echo_pack(polling_interval=0.5), live_api)
    try:
        runner.send_event("Go", None)
        (action,) = wait_for_actions(live_api, "unknown", 1, {"FATAL"})
    finally:
        runner.stop()
    assert "no handler for command 'Teleport'" in action["result"]["payload"]


def test_the_loop_polls_again_at_once_after_an_action(live_api: str) -> None:
    apply_flow(live_api, "burst")
    sender = start(Pack("Echo", events=["Go"]), live_api)
    for n in range(4):
        sender.send_event("Go", n)
    sender.stop()
    wait_for_actions(live_api, "burst", 4, {"NEW"})
    started = time.monotonic()
    runner = start(
        echo_pack(polling_interval=SLOW_POLL, max_concurrent_actions=1), live_api
    )
    try:
        wait_for_actions(live_api, "burst", 4, {"SUCCESS"})
        elapsed = time.monotonic() - started
    finally:
        runner.stop()
    assert elapsed < SLOW_POLL, f"4 actions took {elapsed:.1f} s"


def busy_waits(caplog: pytest.LogCaptureFixture) -> int:
    """How often the poll loop found every handler busy and did not poll."""
    return sum("handlers busy" in r.getMessage() for r in caplog.records)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def test_no_more_handlers_run_at_once_than_allowed_and_the_rest_stay_new(
    live_api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flyte.sdk.runner")
    release = threading.Event()
    running: list[int] = []
    peak: list[int] = [0]
    lock = threading.Lock()

    def blocking(value: Any) -> Event:
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        release.wait(10)
        with lock:
            running.pop()
        return Event("Echoed", value)

    apply_flow(live_api, "bounded")
    runner = start(
        echo_pack(blocking, polling_interval=0.5, max_concurrent_actions=2), live_api
    )
    try:
        for n in range(5):
            runner.send_event("Go", n)
        wait_for_actions(live_api, "bounded", 2, {"PENDING"})
        # Twice busy: the loop went round at least once with both handlers
        # running, and had its chance to take more.
        wait_until(lambda: busy_waits(caplog) >= 2, "the loop found both busy twice")
        states = sorted(a["state"]["value"] for a in actions_of(live_api, "bounded"))
        assert states == ["NEW", "NEW", "NEW", "PENDING", "PENDING"]
        release.set()
        wait_for_actions(live_api, "bounded", 5, {"SUCCESS"})
    finally:
        release.set()
        runner.stop()
    assert peak[0] == 2


def test_stopping_finishes_and_reports_the_actions_in_flight(live_api: str) -> None:
    entered, release = threading.Event(), threading.Event()
    seen_when_stopped: list[list[str]] = []

    def slow(value: Any) -> Event:
        entered.set()
        release.wait(WAIT_SECONDS)
        return Event("Echoed", "finished")

    def stop() -> None:
        runner.stop()
        # What the API holds the moment stop() returns, before anything else runs.
        seen_when_stopped.append(states_of(live_api, "graceful"))

    apply_flow(live_api, "graceful")
    runner = start(echo_pack(slow, polling_interval=0.5), live_api)
    runner.send_event("Go", 1)
    assert entered.wait(WAIT_SECONDS)
    # When the pack is asked to stop while a handler runs
    stopper = threading.Thread(target=stop)
    stopper.start()
    wait_until(runner.stopping.is_set, "stop() began")
    # And an event arrives after the stop began: its action must stay NEW
    runner.send_event("Go", 2)
    wait_for_actions(live_api, "graceful", 1, {"NEW"})
    assert stopper.is_alive(), "stop() returned while a handler was running"
    release.set()
    stopper.join(WAIT_SECONDS)
    # Then stop() returned only once the handler's result was reported
    assert seen_when_stopped == [["NEW", "SUCCESS"]]
    assert runner.wait(0)


def states_of(api: str, flow: str) -> list[str]:
    return sorted(a["state"]["value"] for a in actions_of(api, flow))


def test_a_deleted_pack_registers_again_instead_of_exiting(live_api: str) -> None:
    runner = start(echo_pack(polling_interval=0.5), live_api)
    try:
        assert httpx.delete(f"{live_api}/v1/packs/Echo").status_code == 204
        deadline = time.monotonic() + 10
        while httpx.get(f"{live_api}/v1/packs/Echo").status_code != 200:
            assert time.monotonic() < deadline, "the pack did not register again"
            time.sleep(0.1)
    finally:
        runner.stop()


def test_a_definition_the_api_refuses_raises_instead_of_retrying(live_api: str) -> None:
    labels = {f"k{n}": "v" for n in range(100)}
    pack = Pack("Echo", labels=labels)
    with pytest.raises(ApiError) as raised:
        start(pack, live_api)
    assert raised.value.status == 400
    assert "labels" in raised.value.detail
