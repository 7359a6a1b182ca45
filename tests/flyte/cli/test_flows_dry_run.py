"""``flyte flows test`` (exit 0 fired, 1 none, 2 invalid) and ``disable|enable``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.flyte.cli.cli import FLOWS
from tests.flyte.cli.cli import flyte

ECHO = str(FLOWS / "echo_with_criteria.yaml")


def event_file(tmp_path: Path, payload: str, name: str = "event.yaml") -> str:
    path = tmp_path / name
    path.write_text(
        f"packName: MessageSender\nname: SendMessage\npayload: {json.dumps(payload)}\n"
    )
    return str(path)


def test_a_flow_file_whose_step_fires_exits_0_and_prints_the_input(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = event_file(tmp_path, "deploy api")
    run = flyte(capsys, live_api, "flows", "test", ECHO, "--event", event)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "flow deploy_echo (started): a step fires"
    assert lines[1].split() == ["STEP", "STATUS", "REASON", "CONTEXT", "UNDEFINED"]
    assert lines[3].split() == ["echo", "fired", "{}"]
    assert lines[4] == (
        "echo sends Shell/Shell with input"
        " \"echo requested: 'deploy api' by MessageSender\""
    )


def test_no_step_firing_exits_1_with_the_reason(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = event_file(tmp_path, "hello")
    run = flyte(capsys, live_api, "flows", "test", ECHO, "--event", event)
    assert run.code == 1, run.err
    assert run.out.splitlines()[0] == "flow deploy_echo (started): no step fires"
    assert run.out.splitlines()[3].split() == [
        "echo",
        "skipped",
        "criteria",
        "false",
        "{}",
    ]


def test_a_stored_flow_by_name_with_json_prints_the_apis_answer(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flyte(capsys, live_api, "flows", "apply", ECHO)
    event = event_file(tmp_path, "deploy", name="event.json")
    run = flyte(
        capsys, live_api, "--json", "flows", "test", "deploy_echo", "--event", event
    )
    assert run.code == 0, run.err
    answer = run.json()
    assert (answer["flow"], answer["fired"]) == ("deploy_echo", True)
    assert answer["steps"][0]["command"]["input"] == (
        "echo requested: 'deploy' by MessageSender"
    )


def test_input_errors_exit_2(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = event_file(tmp_path, "deploy")
    bad_event = tmp_path / "bad.yaml"
    bad_event.write_text("packName: MessageSender\n")
    broken_flow = tmp_path / "broken.yaml"
    broken_flow.write_text("name: broken\nsteps: [{id: one}]\n")
    cases = [
        ("no_such_flow", event),
        (ECHO, str(tmp_path / "missing.yaml")),
        (ECHO, str(bad_event)),
        (str(broken_flow), event),
    ]
    for flow, events in cases:
        run = flyte(capsys, live_api, "flows", "test", flow, "--event", events)
        assert run.code == 2, (flow, events, run.out)
        assert run.err.startswith("flyte: ")
        assert run.out == ""


def test_a_missing_event_option_is_a_usage_error(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        flyte(capsys, live_api, "flows", "test", ECHO)
    assert exited.value.code == 2


def test_disable_and_enable_pause_and_resume_a_flow_and_list_shows_it(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", ECHO)
    run = flyte(capsys, live_api, "flows", "disable", "deploy_echo")
    assert (run.code, run.out) == (0, "disabled flow deploy_echo\n")
    assert httpx.get(f"{live_api}/v1/flows/deploy_echo/enabled").json() is False
    header, _, row = flyte(capsys, live_api, "flows", "list").out.splitlines()
    assert header.split() == ["NAME", "STATE", "DESCRIPTION"]
    assert row.split(maxsplit=2) == [
        "deploy_echo",
        "disabled",
        "Echoes deploy requests",
    ]
    run = flyte(capsys, live_api, "flows", "enable", "deploy_echo")
    assert (run.code, run.out) == (0, "enabled flow deploy_echo\n")
    header = flyte(capsys, live_api, "flows", "list").out.splitlines()[0]
    assert header.split() == ["NAME", "DESCRIPTION"]


def test_disabling_an_unknown_flow_exits_1_naming_it(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "flows", "disable", "nope")
    assert run.code == 1
    assert run.err == "flyte: flow 'nope' not found\n"
