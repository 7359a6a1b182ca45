"""``flyte flows``: apply files and directories, list, get, delete."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.flyte.cli.cli import FLOWS
from tests.flyte.cli.cli import flyte

INVALID_FLOW = "name: broken\nsteps:\n- id: one\n  command: {name: Shell}\n"


def test_apply_posts_a_yaml_file_and_prints_the_flow_name(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "flows", "apply", str(FLOWS / "quickstart.yaml"))
    assert run.code == 0, run.err
    assert run.out.startswith("applied next_uk_bank_holidays (")
    assert httpx.get(f"{live_api}/v1/flows/next_uk_bank_holidays").status_code == 200


def test_apply_of_a_directory_posts_its_flow_files_in_name_order(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a directory with a JSON flow, a YAML flow, and files that are not flows
    (tmp_path / "b.json").write_text(json.dumps({"name": "bee", "steps": []}))
    (tmp_path / "a.yml").write_text((FLOWS / "echo_with_criteria.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not a flow")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.yaml").write_text(INVALID_FLOW)
    # When it is applied
    run = flyte(capsys, live_api, "flows", "apply", str(tmp_path))
    # Then its two flow files are posted, by name, and nothing else
    assert run.code == 0, run.err
    assert [line.split()[1] for line in run.out.splitlines()] == ["deploy_echo", "bee"]


def test_apply_keeps_going_after_a_rejected_flow_and_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(INVALID_FLOW)
    good = str(FLOWS / "echo_with_criteria.yaml")
    run = flyte(capsys, live_api, "flows", "apply", str(broken), good)
    assert run.code == 1
    assert run.out.startswith("applied deploy_echo")
    assert run.err.startswith(f"flyte: {broken}: rejected (400): invalid flow: ")
    assert "$.steps[0]" in run.err
    assert len(run.err.splitlines()) == 1


def test_apply_json_prints_every_answer_as_one_document(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(INVALID_FLOW)
    good = str(FLOWS / "echo_with_criteria.yaml")
    run = flyte(capsys, live_api, "flows", "apply", good, str(broken), "--json")
    assert run.code == 1
    stored, rejected = run.json()
    assert stored["name"] == "deploy_echo"
    assert rejected["status"] == 400 and rejected["problems"]


def test_apply_of_a_path_that_is_not_a_flow_file_exits_2_and_sends_nothing(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = str(FLOWS / "echo_with_criteria.yaml")
    run = flyte(capsys, live_api, "flows", "apply", good, str(tmp_path / "nope.yaml"))
    assert run.code == 2
    assert "nope.yaml" in run.err and run.err.startswith("flyte: ")
    assert httpx.get(f"{live_api}/v1/flows").json()["flows"] == []


def test_apply_of_a_missing_file_says_it_does_not_exist(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "deploy_echo.yaml"
    run = flyte(capsys, live_api, "flows", "apply", str(missing))
    assert run.code == 2
    assert f"no such file or directory: {missing}" in run.err


def test_apply_of_a_file_that_is_no_flow_file_says_which_kinds_it_takes(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    run = flyte(capsys, live_api, "flows", "apply", str(notes))
    assert run.code == 2
    assert "not a directory or a .yaml, .yml or .json file" in run.err


def test_list_shows_a_table_of_names_and_descriptions(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "echo_with_criteria.yaml"))
    run = flyte(capsys, live_api, "flows", "list")
    assert run.code == 0
    header, _, row = run.out.splitlines()
    assert header.split() == ["NAME", "DESCRIPTION"]
    assert row.split(maxsplit=1) == ["deploy_echo", "Echoes deploy requests"]


def test_list_json_is_the_apis_document(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "echo_with_criteria.yaml"))
    run = flyte(capsys, live_api, "--json", "flows", "list")
    assert run.json() == httpx.get(f"{live_api}/v1/flows").json()


def test_get_prints_yaml_that_apply_takes_back(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "quickstart.yaml"))
    run = flyte(capsys, live_api, "flows", "get", "next_uk_bank_holidays")
    assert run.code == 0
    flow = yaml.safe_load(run.out)
    assert flow["name"] == "next_uk_bank_holidays" and "links" not in flow
    copy = tmp_path / "copy.yaml"
    copy.write_text(run.out)
    assert flyte(capsys, live_api, "flows", "apply", str(copy)).code == 0


def test_get_json_is_the_flow_as_the_api_shows_it(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "echo_with_criteria.yaml"))
    run = flyte(capsys, live_api, "flows", "get", "deploy_echo", "--json")
    assert run.json() == httpx.get(f"{live_api}/v1/flows/deploy_echo").json()


def test_get_of_an_unknown_flow_exits_1_saying_it_is_not_found(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "flows", "get", "nope")
    assert (run.code, run.out, run.err) == (1, "", "flyte: flow 'nope' not found\n")


def test_delete_removes_the_flow(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "echo_with_criteria.yaml"))
    run = flyte(capsys, live_api, "flows", "delete", "deploy_echo")
    assert (run.code, run.out) == (0, "deleted flow deploy_echo\n")
    assert httpx.get(f"{live_api}/v1/flows/deploy_echo").status_code == 404


def test_delete_of_an_unknown_flow_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "flows", "delete", "nope")
    assert (run.code, run.err) == (1, "flyte: flow 'nope' not found\n")
