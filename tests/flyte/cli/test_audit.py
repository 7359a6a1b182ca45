"""``flyte audit``: list flow executions with filters, show one."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from flyte.cli import build_parser
from flyte.cli.audit import query
from tests.flyte.cli.cli import FLOWS
from tests.flyte.cli.cli import flyte
from tests.flyte.cli.cli import send_greet_without_user


@pytest.fixture
def correlation_id(live_api: str, capsys: pytest.CaptureFixture[str]) -> str:
    """An execution of deploy_echo whose step ``echo`` fired; its correlation id."""
    flyte(capsys, live_api, "flows", "apply", str(FLOWS / "echo_with_criteria.yaml"))
    args = (
        "events",
        "send",
        "MessageSender",
        "SendMessage",
        "--register",
        "--payload",
        '"deploy"',
    )
    event = flyte(capsys, live_api, *args, "--wait", "20", "--json").json()
    return str(event["flows"][0]["correlationId"])


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["audit", "list", *argv])


def test_query_maps_every_filter_to_the_apis_parameter() -> None:
    args = _args(
        *("--flow", "f", "--step", "s", "--action", "a", "--pack", "p"),
        *("--pack-labels", "env=dev,team=ops", "--start", "5", "--limit", "10"),
    )
    assert query(args) == {
        "flowName": "f",
        "stepId": "s",
        "actionName": "a",
        "actionPackName": "p",
        "actionPackLabels": "env:dev,team:ops",
        "start": "5",
        "limit": "10",
    }


def test_query_without_filters_is_empty() -> None:
    assert query(_args()) == {}


def test_list_shows_a_table_of_executions(
    live_api: str, correlation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "list", "--flow", "deploy_echo")
    assert run.code == 0, run.err
    header, _, row = run.out.splitlines()
    assert header.split()[:4] == ["CORRELATION", "ID", "FLOW", "TRIGGER"]
    assert row.split()[:6] == [
        correlation_id,
        "deploy_echo",
        "SendMessage",
        "from",
        "MessageSender",
        "echo=NEW",
    ]


def test_list_filters_reach_the_api(
    live_api: str, correlation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "list", "--pack", "Other", "--json")
    assert run.json()["flows"] == []
    run = flyte(capsys, live_api, "audit", "list", "--step", "echo", "--json")
    assert [e["correlationId"] for e in run.json()["flows"]] == [correlation_id]


def test_list_with_a_page_the_api_refuses_exits_1_with_its_reason(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "list", "--limit", "0")
    assert run.code == 1
    assert run.err.startswith("flyte: GET ")
    # The reason is said once, though the API lists it twice (description, problems)
    assert run.err.count("limit: must be an integer of at least 1") == 1


def test_list_with_malformed_pack_labels_exits_2(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "list", "--pack-labels", "env")
    assert run.code == 2
    assert "--pack-labels: 'env' is not key=value" in run.err


def test_show_prints_the_flow_its_actions_and_evaluations(
    live_api: str, correlation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "show", correlation_id)
    assert run.code == 0, run.err
    assert run.out.startswith("flow         deploy_echo (version ")
    assert f"correlation  {correlation_id}\n" in run.out
    assert "trigger      SendMessage from MessageSender at " in run.out
    assert "  echo: Shell on Shell, NEW (action " in run.out
    assert "  echo: fired on SendMessage (event " in run.out


def test_show_prints_the_warnings_of_an_evaluation(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an execution whose step touched an undefined value
    sent = send_greet_without_user(capsys, live_api, tmp_path, strict="")
    correlation_id = sent.out.split("correlation ")[1].split()[0]
    # When its audit is shown
    run = flyte(capsys, live_api, "audit", "show", correlation_id)
    # Then the warning stands under the step's evaluation
    assert run.code == 0, run.err
    assert ("  greet: fired on Said (event ") in run.out
    assert (
        '\n    warning: Event.Payload.user.name.first is undefined (rendered as "")\n'
    ) in run.out


def test_show_json_is_the_apis_document(
    live_api: str, correlation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "show", correlation_id, "--json")
    assert run.json()["correlationId"] == correlation_id
    assert run.json()["actions"]["echo"]["state"]["value"] == "NEW"


def test_show_of_an_unknown_execution_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "audit", "show", "nope")
    assert (run.code, run.err) == (1, "flyte: flow execution 'nope' not found\n")


def test_list_without_executions_says_so(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flyte(capsys, live_api, "audit", "list").out == "No executions.\n"
