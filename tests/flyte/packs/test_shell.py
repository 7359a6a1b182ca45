"""The Shell pack: scripts run for real, then one action through the real API."""

from __future__ import annotations

import os
import time

import httpx

from flyte.packs.shell import ShellSettings
from flyte.packs.shell import build_pack
from flyte.sdk import Event
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action
from tests.timing import finishes_within


def run(script: object, **settings: object) -> Event:
    pack = build_pack(settings=ShellSettings(**settings))  # type: ignore[arg-type]
    return pack.commands["Shell"].handler(script)


def is_gone(pid: int) -> bool:
    """Whether ``pid`` has ended (an orphan may take a moment to be reaped)."""
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if _is_zombie(pid):
            return True
        time.sleep(0.02)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_output_has_stdout_stderr_and_exit_code_as_upstream() -> None:
    event = run("echo out; echo err >&2; exit 3")

    assert event == Event(
        "Output", {"stdout": "out\n", "stderr": "err\n", "exit_code": 3}
    )


def test_a_successful_script_exits_zero() -> None:
    assert run("printf '%s' \"$((6 * 7))\"").payload == {
        "stdout": "42",
        "stderr": "",
        "exit_code": 0,
    }


def test_a_script_killed_by_a_signal_reports_128_plus_the_signal() -> None:
    assert run("kill -TERM $$").payload["exit_code"] == 128 + 15


def test_the_script_runs_in_the_workdir(tmp_path) -> None:
    assert run("pwd", workdir=str(tmp_path)).payload["stdout"] == f"{tmp_path}\n"


def test_the_script_does_not_see_the_packs_token(monkeypatch) -> None:
    monkeypatch.setenv("FLYTE_JWT", "secret")

    assert run('echo "[$FLYTE_JWT]"').payload["stdout"] == "[]\n"


def test_a_timeout_kills_the_whole_process_group() -> None:
    with finishes_within(2.5):
        event = run("sleep 30 & echo $!; sleep 30", timeout=0.5)

    assert event.payload["exit_code"] == 124
    assert event.payload["timed_out"] is True
    assert is_gone(int(event.payload["stdout"]))
    assert event.payload["stderr"].endswith(
        "timed out after 0.5 s; process group killed]\n"
    )


def test_a_background_child_holding_the_output_open_counts_against_the_timeout() -> (
    None
):
    with finishes_within(2.5):
        event = run("(sleep 30; echo never) & echo done", timeout=0.5)

    assert event.payload["exit_code"] == 124
    assert event.payload["stdout"] == "done\n"


def test_output_beyond_the_cap_is_dropped_and_counted() -> None:
    event = run(
        "head -c 1000 /dev/zero | tr '\\0' a; echo oops >&2", max_output_bytes=10
    )

    assert event.payload["stdout"] == "a" * 10 + "\n[... truncated 990 bytes]"
    assert event.payload["stderr"] == "oops\n"
    assert event.payload["exit_code"] == 0


def test_output_is_decoded_as_utf8_with_replacements() -> None:
    event = run("printf 'caf\\303\\251 \\377'")

    assert event.payload["stdout"] == "café \ufffd"


def test_a_non_string_input_is_fatal() -> None:
    event = run({"script": "ls"})

    assert event.name == "FATAL"
    assert "input must be a string" in event.payload


def test_an_empty_script_exits_one_as_upstream() -> None:
    assert run("  ").payload == {
        "stdout": "",
        "stderr": "no script given",
        "exit_code": 1,
    }


def test_the_shell_pack_runs_an_action_of_a_flow_through_the_api(live_api: str) -> None:
    # Given a flow from a trigger pack's Go event to Shell, and both packs registered
    post_flow(
        live_api,
        {
            "name": "shell-echo",
            "steps": [
                {
                    "id": "run",
                    "event": {"packName": "Trigger", "name": "Go"},
                    "command": {
                        "packName": "Shell",
                        "name": "Shell",
                        "input": "echo {{ Event.Payload.word }}",
                    },
                }
            ],
        },
    )
    trigger = {"name": "Trigger", "events": [{"name": "Go"}]}
    assert httpx.post(f"{live_api}/v1/packs", json=trigger).status_code == 201
    pack = build_pack(polling_interval=0.5)
    runner = start(pack, live_api)
    try:
        # When the trigger pack sends its event
        sent = httpx.post(
            f"{live_api}/v1/packs/Trigger/events",
            json={"event": "Go", "payload": {"word": "hello"}},
        )
        assert sent.status_code == 202

        # Then Shell runs the script and reports its output
        action = wait_for_action(live_api, "shell-echo", "run")
    finally:
        runner.stop()
    assert action["state"]["value"] == "SUCCESS"
    assert action["result"]["event"] == "Output"
    assert action["result"]["payload"] == {
        "stdout": "hello\n",
        "stderr": "",
        "exit_code": 0,
    }
