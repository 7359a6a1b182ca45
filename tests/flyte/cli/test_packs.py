"""``flyte packs`` (alias ``pack``): list, get, delete, and run the examples."""

from __future__ import annotations

import httpx
import pytest
import yaml

from flyte.cli import main
from tests.flyte.cli.cli import flyte

SLACK = {
    "name": "Slack",
    "labels": {"env": "dev"},
    "events": [{"name": "ReceivedMessage"}],
    "commands": [{"name": "SendMessage", "events": ["MessageSent"]}],
}


@pytest.fixture
def slack(live_api: str) -> str:
    """A registered Slack pack; its id."""
    assert httpx.post(f"{live_api}/v1/packs", json=SLACK).status_code == 201
    return "Slack.env.dev"


def test_list_shows_a_table_of_the_packs(
    live_api: str, slack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "packs", "list")
    assert run.code == 0
    header, _, row = run.out.splitlines()
    assert header.split() == ["ID", "NAME", "LABELS", "STATUS", "LAST", "SEEN"]
    assert row.split()[:4] == [slack, "Slack", "env=dev", "live"]


def test_list_json_is_the_apis_document(
    live_api: str, slack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "packs", "list", "--json")
    assert [pack["id"] for pack in run.json()["packs"]] == [slack]
    assert run.json()["links"]


def test_get_prints_the_pack_as_yaml(
    live_api: str, slack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "pack", "get", slack)
    assert run.code == 0
    pack = yaml.safe_load(run.out)
    assert (pack["id"], pack["status"]) == (slack, "live")
    assert pack["commands"][0]["name"] == "SendMessage"


def test_get_and_delete_a_pack_with_a_slash_in_its_labels(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"name": "Build", "labels": {"repo": "org/app"}}
    assert httpx.post(f"{live_api}/v1/packs", json=body).status_code == 201
    run = flyte(capsys, live_api, "pack", "get", "Build.repo.org/app")
    assert run.code == 0
    assert yaml.safe_load(run.out)["labels"] == {"repo": "org/app"}
    assert flyte(capsys, live_api, "pack", "delete", "Build.repo.org/app").code == 0
    assert httpx.get(f"{live_api}/v1/packs").json()["packs"] == []


def test_get_json_is_the_pack_as_the_api_shows_it(
    live_api: str, slack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "packs", "get", slack, "--json")
    assert run.json()["id"] == slack
    assert {link["rel"] for link in run.json()["links"]} >= {"self", "up"}


def test_get_of_an_unknown_pack_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "packs", "get", "Nope")
    assert (run.code, run.err) == (1, "flyte: pack 'Nope' not found\n")


def test_delete_removes_the_registration(
    live_api: str, slack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "pack", "delete", slack)
    assert (run.code, run.out) == (0, f"deleted pack {slack}\n")
    assert httpx.get(f"{live_api}/v1/packs/{slack}").status_code == 404


def test_delete_of_an_unknown_pack_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "packs", "delete", "Nope")
    assert (run.code, run.err) == (1, "flyte: pack 'Nope' not found\n")


def test_run_passes_the_remaining_arguments_to_the_example_pack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pack", "run", "shell", "--help"], environ={})
    assert exit_info.value.code == 0
    assert "flyte pack run shell" in capsys.readouterr().out


def test_run_of_an_unknown_example_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pack", "run", "nope"], environ={})
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_list_without_packs_says_so(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flyte(capsys, live_api, "packs", "list").out == "No packs.\n"
