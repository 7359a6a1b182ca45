"""The Timer pack: schedules on an injected clock, the config checks, one live tick."""

from __future__ import annotations

import threading
from datetime import UTC
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flyte.packs import timer
from flyte.packs.errors import InvalidTimers
from flyte.packs.schedule import Schedule
from flyte.packs.schedule import Timer
from flyte.packs.schedule import load_timers
from flyte.packs.shell import build_pack as build_shell
from tests.conftest import FakeClock
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action

NIGHTLY = Timer("nightly", "0 2 * * *", payload={"job": "backup"})


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_first_tick_is_the_next_scheduled_time(clock: FakeClock) -> None:
    schedule = Schedule([NIGHTLY], clock)

    assert schedule.next_time() == at(2026, 1, 3, 2, 0)
    assert schedule.due(clock()) == []


def test_a_due_timer_ticks_once_and_moves_to_its_next_time(clock: FakeClock) -> None:
    schedule = Schedule([NIGHTLY], clock)
    clock.now = at(2026, 1, 3, 2, 0, 0)

    [tick] = schedule.due(clock())

    assert tick.payload() == {
        "name": "nightly",
        "cron": "0 2 * * *",
        "scheduledAt": "2026-01-03T02:00:00Z",
        "payload": {"job": "backup"},
    }
    assert tick.skipped == 0
    assert schedule.due(clock()) == []
    assert schedule.next_time() == at(2026, 1, 4, 2, 0)


def test_a_late_wake_up_keeps_the_scheduled_time_so_nothing_drifts(
    clock: FakeClock,
) -> None:
    schedule = Schedule([Timer("minutely", "* * * * *")], clock)
    clock.now = at(2026, 1, 2, 15, 5, 0, 700_000)

    [tick] = schedule.due(clock())

    assert tick.scheduled_at == at(2026, 1, 2, 15, 5)
    assert schedule.next_time() == at(2026, 1, 2, 15, 6)


def test_the_time_zone_sets_the_wall_clock_of_the_schedule() -> None:
    london = Timer("nightly", "0 2 * * *", ZoneInfo("Europe/London"))

    # 02:00 in London is 02:00Z in winter and 01:00Z in summer time.
    assert london.next_after(at(2026, 1, 10, 12, 0)) == at(2026, 1, 11, 2, 0)
    assert london.next_after(at(2026, 7, 10, 12, 0)) == at(2026, 7, 11, 1, 0)


def test_after_a_long_pause_a_timer_fires_once_not_a_burst(clock: FakeClock) -> None:
    schedule = Schedule([NIGHTLY, Timer("hourly", "0 * * * *")], clock)
    clock.now = at(2026, 1, 7, 9, 30)

    ticks = {tick.timer.name: tick for tick in schedule.due(clock())}

    assert ticks["nightly"].scheduled_at == at(2026, 1, 7, 2, 0)
    assert ticks["nightly"].skipped == 4
    assert ticks["hourly"].scheduled_at == at(2026, 1, 7, 9, 0)
    assert schedule.due(clock()) == []
    assert schedule.next_time() == at(2026, 1, 7, 10, 0)


def test_a_valid_file_gives_its_timers_with_utc_by_default() -> None:
    timers = load_timers(
        """
timers:
- name: nightly
  cron: "0 2 * * *"
  timezone: Europe/London
  payload: {job: backup}
- {name: often, cron: "*/5 * * * *"}
"""
    )

    assert timers == [
        Timer("nightly", "0 2 * * *", ZoneInfo("Europe/London"), {"job": "backup"}),
        Timer("often", "*/5 * * * *", ZoneInfo("UTC"), None),
    ]


def test_every_problem_of_the_file_is_reported_with_its_timer() -> None:
    with pytest.raises(InvalidTimers) as raised:
        load_timers(
            """
timers:
- {name: a, cron: "0 2 * * *"}
- {name: a, cron: "0 3 * * *"}
- {name: b, cron: "every day"}
- {name: c, cron: "0 2 * * *", timezone: Mars/Olympus}
- {name: d, cron: "0 2 * * *", tz: UTC}
- {name: e, cron: "0 2 * * *", payload: {when: 2026-01-01}}
- {cron: "0 2 * * *"}
- just text
"""
        )

    assert raised.value.problems == [
        "timer 'a': the name is used twice",
        "timer 'b': 'cron' 'every day' is not a cron expression",
        "timer 'c': 'timezone' 'Mars/Olympus' is not a known time zone",
        "timer 'd': unknown key(s) ['tz']",
        "timer 'e': 'payload' must be plain JSON (quote dates)",
        "timers[6]: 'name' must be a non-empty string",
        "timers[7]: must be a mapping with name and cron",
    ]


@pytest.mark.parametrize("text", ["timers: []", "other: 1", "- a", "timers: ["])
def test_a_file_without_timers_is_refused(text: str) -> None:
    with pytest.raises(InvalidTimers):
        load_timers(text)


def test_main_refuses_a_bad_file_before_contacting_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "timers.yaml"
    path.write_text("timers:\n- {name: b, cron: nope}\n")

    status = timer.main([], {"FLYTE_TIMER_CONFIG": str(path)})

    assert status == 2
    assert capsys.readouterr().err == (
        f"flyte pack run timer: error: {path}:\n"
        "  timer 'b': 'cron' 'nope' is not a cron expression\n"
    )


def test_main_requires_a_config_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        timer.main([], {})

    assert exited.value.code == 2
    assert "--config (or FLYTE_TIMER_CONFIG) is required" in capsys.readouterr().err


def test_the_timer_pack_ticks_into_a_flow_through_the_api(live_api: str) -> None:
    # Given a flow from Timer's Tick to Shell, and both packs running
    post_flow(
        live_api,
        {
            "name": "timer-echo",
            "steps": [
                {
                    "id": "run",
                    "event": {"packName": "Timer", "name": "Tick"},
                    "command": {
                        "packName": "Shell",
                        "name": "Shell",
                        "input": "echo {{ Event.Payload.name }} "
                        "{{ Event.Payload.payload.n }}",
                    },
                }
            ],
        },
    )
    shell = start(build_shell(polling_interval=0.5), live_api)
    runner = start(timer.build_pack(), live_api)
    every_second = Timer("second", "* * * * * *", payload={"n": 7})
    loop = threading.Thread(target=timer.timer_loop, args=(runner, [every_second]))
    try:
        # When the loop runs until the next second
        loop.start()

        # Then its tick started the flow, and Shell echoed the payload
        action = wait_for_action(live_api, "timer-echo", "run")
    finally:
        runner.stopping.set()
        loop.join(1)
        runner.stop()
        shell.stop()
    assert not loop.is_alive()
    assert action["trigger"]["event"] == "Tick"
    assert action["result"]["payload"]["stdout"] == "second 7\n"
