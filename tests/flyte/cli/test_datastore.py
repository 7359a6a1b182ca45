"""``flyte datastore``: put text and files, get raw values, list, delete."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.flyte.cli.cli import flyte


def test_put_value_creates_then_replaces_a_text_item(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    put = ("datastore", "put", "motd", "--value", "héllo")
    first = flyte(capsys, live_api, *put, "--description", "the message")
    second = flyte(capsys, live_api, *put)
    assert first.out == "created motd (text/plain; charset=utf-8, 6 bytes)\n"
    assert second.out == "replaced motd (text/plain; charset=utf-8, 6 bytes)\n"
    answer = httpx.get(f"{live_api}/v1/datastore/motd")
    assert answer.content == "héllo".encode()
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_put_file_guesses_the_content_type_from_the_name(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    teams = tmp_path / "teams.json"
    teams.write_text('{"teama": {"email": "a@example.com"}}')
    run = flyte(capsys, live_api, "datastore", "put", "teams", "--file", str(teams))
    assert run.code == 0, run.err
    answer = httpx.get(f"{live_api}/v1/datastore/teams")
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.content == teams.read_bytes()


def test_put_file_of_unknown_type_is_sent_as_octet_stream_unless_told(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00\x01")
    flyte(capsys, live_api, "datastore", "put", "blob", "--file", str(blob))
    typed = ("--content-type", "text/csv")
    flyte(capsys, live_api, "datastore", "put", "csv", "--file", str(blob), *typed)
    types = {
        key: httpx.get(f"{live_api}/v1/datastore/{key}").headers["Content-Type"]
        for key in ("blob", "csv")
    }
    assert types == {"blob": "application/octet-stream", "csv": "text/csv"}


def test_put_of_a_missing_file_exits_2(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "datastore", "put", "k", "--file", "/no/such")
    assert run.code == 2
    assert run.err.startswith("flyte: invalid file: --file: cannot read /no/such")


def test_get_writes_the_raw_value(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "datastore", "put", "motd", "--value", "line\n")
    run = flyte(capsys, live_api, "datastore", "get", "motd")
    assert (run.code, run.out) == (0, "line\n")


def test_get_json_prints_the_items_metadata(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    put = ("datastore", "put", "motd", "--value", "hi", "--description", "greeting")
    flyte(capsys, live_api, *put)
    item = flyte(capsys, live_api, "datastore", "get", "motd", "--json").json()
    assert (item["key"], item["description"]) == ("motd", "greeting")
    assert item["contentType"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("json_option", [(), ("--json",)], ids=["raw", "json"])
def test_get_of_an_unknown_key_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str], json_option: tuple[str, ...]
) -> None:
    run = flyte(capsys, live_api, "datastore", "get", "nope", *json_option)
    assert (run.code, run.err) == (1, "flyte: datastore item 'nope' not found\n")


def test_list_shows_keys_types_and_descriptions(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "datastore", "put", "b", "--value", "x")
    flyte(
        capsys, live_api, "datastore", "put", "a", "--value", "y", "--description", "d"
    )
    run = flyte(capsys, live_api, "datastore", "list")
    header, _, *rows = run.out.splitlines()
    assert header.split() == ["KEY", "CONTENT", "TYPE", "DESCRIPTION"]
    assert [row.split() for row in rows] == [
        ["a", "text/plain;", "charset=utf-8", "d"],
        ["b", "text/plain;", "charset=utf-8"],
    ]


def test_list_json_is_the_apis_document(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "datastore", "put", "a", "--value", "y")
    run = flyte(capsys, live_api, "datastore", "list", "--json")
    assert run.json() == httpx.get(f"{live_api}/v1/datastore").json()


def test_delete_removes_the_item(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "datastore", "put", "a", "--value", "y")
    run = flyte(capsys, live_api, "datastore", "delete", "a")
    assert (run.code, run.out) == (0, "deleted a\n")
    again = flyte(capsys, live_api, "datastore", "delete", "a")
    assert (again.code, again.err) == (1, "flyte: datastore item 'a' not found\n")


def test_list_of_an_empty_datastore_says_so(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert flyte(capsys, live_api, "datastore", "list").out == "No items.\n"
