"""``flyte events``: send an event as a pack, wait for it, show what it did."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.flyte.cli.cli import FLOWS
from tests.flyte.cli.cli import flyte
from tests.flyte.cli.cli import send_greet_without_user

#: The one-step flow that fires on MessageSender's SendMessage starting "deploy".
DEPLOY_ECHO = str(FLOWS / "echo_with_criteria.yaml")


def test_send_with_register_registers_a_missing_pack_and_prints_the_event_page(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(
        capsys,
        live_api,
        "events",
        "send",
        "Bot",
        "Said",
        "--register",
        "--payload",
        "{}",
    )
    assert run.code == 0, run.err
    first, location = run.out.splitlines()
    assert first.startswith("sent Said as Bot: event ")
    event_id = first.rsplit(" ", 1)[1]
    assert location == f"{live_api}/v1/events/{event_id}"
    pack = httpx.get(f"{live_api}/v1/packs/Bot").json()
    assert pack["events"] == [{"name": "Said"}]


def test_a_mistyped_pack_exits_1_naming_the_known_packs_and_registers_nothing(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the Chat and Shell packs are registered
    for name in ("Shell", "Chat"):
        assert (
            httpx.post(f"{live_api}/v1/packs", json={"name": name}).status_code == 201
        )
    # When the user mistypes Chat
    run = flyte(capsys, live_api, "events", "send", "Chta", "ReceivedMessage")
    # Then one line says so, names the known packs and the flag, and exits 1
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "flyte: no pack Chta is registered; known packs: Chat, Shell "
        "(or add --register to send as a new pack)\n"
    )
    # And no pack was registered behind the user's back
    packs = httpx.get(f"{live_api}/v1/packs").json()["packs"]
    assert sorted(pack["id"] for pack in packs) == ["Chat", "Shell"]


def test_send_to_a_registered_pack_needs_no_flag(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert httpx.post(f"{live_api}/v1/packs", json={"name": "Chat"}).status_code == 201
    run = flyte(capsys, live_api, "events", "send", "Chat", "ReceivedMessage")
    assert run.code == 0, run.err
    assert run.out.startswith("sent ReceivedMessage as Chat: event ")


def test_send_never_replaces_an_existing_registration(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = {"name": "Bot", "commands": [{"name": "Do", "events": ["Done"]}]}
    assert httpx.post(f"{live_api}/v1/packs", json=registration).status_code == 201
    assert (
        flyte(capsys, live_api, "events", "send", "Bot", "Said", "--register").code == 0
    )
    pack = httpx.get(f"{live_api}/v1/packs/Bot").json()
    assert [c["name"] for c in pack["commands"]] == ["Do"]
    assert "events" not in pack


def test_send_with_labels_posts_as_the_labelled_pack(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = ("--labels", "team=ops,env=dev")
    run = flyte(
        capsys,
        live_api,
        "events",
        "send",
        "Bot",
        "Said",
        "--register",
        *labels,
        "--json",
    )
    assert run.code == 0
    event = httpx.get(run.json()["links"][0]["href"]).json()
    assert event["pack"] == {
        "id": "Bot.env.dev.team.ops",
        "name": "Bot",
        "labels": {"env": "dev", "team": "ops"},
    }


def test_send_reads_the_payload_from_a_file(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"text": "hello"}))
    args = (
        "events",
        "send",
        "Bot",
        "Said",
        "--register",
        "--payload",
        f"@{payload}",
        "--json",
    )
    run = flyte(capsys, live_api, *args)
    assert httpx.get(run.json()["links"][0]["href"]).json()["payload"] == {
        "text": "hello"
    }


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        (("--payload", "{not json"), "--payload: not valid JSON: "),
        (("--payload", "@/no/such/file"), "--payload: cannot read /no/such/file"),
        (("--labels", "env"), "--labels: 'env' is not key=value"),
    ],
    ids=["bad JSON", "missing file", "bad labels"],
)
def test_send_with_bad_local_input_exits_2_and_sends_nothing(
    live_api: str,
    capsys: pytest.CaptureFixture[str],
    option: tuple[str, str],
    problem: str,
) -> None:
    run = flyte(
        capsys, live_api, "events", "send", "Bot", "Said", "--register", *option
    )
    assert run.code == 2
    assert run.err.startswith("flyte: invalid ") and problem in run.err
    assert httpx.get(f"{live_api}/v1/packs").json()["packs"] == []


def test_send_wait_prints_what_the_event_did_once_processed(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a flow that fires on MessageSender's SendMessage starting with "deploy"
    assert flyte(capsys, live_api, "flows", "apply", DEPLOY_ECHO).code == 0
    # When such an event is sent and waited for
    args = (
        "events",
        "send",
        "MessageSender",
        "SendMessage",
        "--register",
        "--payload",
        '"deploy"',
    )
    run = flyte(capsys, live_api, *args, "--wait", "20")
    # Then the step that fired is shown with its action
    assert run.code == 0, run.err
    assert "status   processed" in run.out
    assert "flow deploy_echo: started, correlation " in run.out
    assert "  echo: fired (action " in run.out


def test_send_wait_json_prints_the_processed_event(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", DEPLOY_ECHO)
    args = (
        "events",
        "send",
        "MessageSender",
        "SendMessage",
        "--register",
        "--payload",
        '"nope"',
    )
    run = flyte(capsys, live_api, *args, "--wait", "--json")
    event = run.json()
    assert event["status"] == "processed"
    assert event["flows"][0]["steps"] == [
        {"id": "echo", "status": "skipped", "reason": "criteria false"}
    ]


def test_show_prints_the_event_and_why_each_step_did_not_fire(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flyte(capsys, live_api, "flows", "apply", DEPLOY_ECHO)
    args = (
        "events",
        "send",
        "MessageSender",
        "SendMessage",
        "--register",
        "--payload",
        '"no"',
    )
    event_id = flyte(capsys, live_api, *args, "--wait", "--json").json()["id"]
    run = flyte(capsys, live_api, "events", "show", event_id)
    assert run.code == 0
    assert run.out.startswith(f"event    SendMessage ({event_id})\n")
    assert "pack     MessageSender\n" in run.out
    assert "  echo: skipped (criteria false)" in run.out


def test_show_json_is_the_apis_document(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = flyte(
        capsys, live_api, "events", "send", "Bot", "Said", "--register", "--json"
    ).json()
    run = flyte(capsys, live_api, "events", "show", sent["id"], "--json")
    assert run.json()["id"] == sent["id"]
    assert run.json()["event"] == "Said"


def test_show_of_an_unknown_event_exits_1(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = flyte(capsys, live_api, "events", "show", "nope")
    assert (run.code, run.err) == (1, "flyte: event 'nope' not found\n")


def test_send_wait_says_nothing_fired_when_the_only_step_was_skipped(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a flow whose one step fires only on payloads starting with "deploy"
    assert flyte(capsys, live_api, "flows", "apply", DEPLOY_ECHO).code == 0
    # When an event that does not match is sent and waited for
    args = ("events", "send", "MessageSender", "SendMessage", "--register")
    run = flyte(capsys, live_api, *args, "--payload", '"hello"', "--wait", "20")
    # Then the flow is not said to have started, and the step says why it did not
    assert run.code == 0, run.err
    assert "flow deploy_echo: nothing fired, correlation " in run.out
    assert "started" not in run.out
    assert "  echo: skipped (criteria false)\n" in run.out


def test_send_wait_says_a_step_failed_with_its_error(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a flow whose step's input cannot be rendered for this payload
    flow = tmp_path / "broken.yaml"
    flow.write_text(
        "name: broken\n"
        "steps:\n"
        "- id: add\n"
        "  event: {packName: Bot, name: Said}\n"
        "  command:\n"
        "    packName: Shell\n"
        "    name: Shell\n"
        '    input: "{{ Event.Payload.n + 1 }}"\n'
    )
    assert flyte(capsys, live_api, "flows", "apply", str(flow)).code == 0
    # When the event is sent and waited for
    args = ("events", "send", "Bot", "Said", "--register", "--payload", '{"n": "x"}')
    run = flyte(capsys, live_api, *args, "--wait", "20")
    # Then the step is said to have failed, with the error
    assert run.code == 0, run.err
    assert "flow broken: nothing fired, correlation " in run.out
    assert "  add: failed (" in run.out


def test_send_wait_prints_a_warning_for_an_undefined_name(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a flow whose input reaches Event.Payload.user.name.first
    # When an event without user is sent and waited for
    run = send_greet_without_user(capsys, live_api, tmp_path, strict="")
    # Then the step fired, and the undefined value is named under it
    assert run.code == 0, run.err
    assert "  greet: fired (action " in run.out
    assert (
        '\n    warning: Event.Payload.user.name.first is undefined (rendered as "")\n'
        in run.out
    )


def test_send_wait_says_a_strict_step_failed_naming_the_undefined_name(
    live_api: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given the same flow, strict
    # When an event without user is sent and waited for
    run = send_greet_without_user(capsys, live_api, tmp_path, "strict: true\n")
    # Then the step failed with an error naming the value
    assert run.code == 0, run.err
    assert "flow greet: nothing fired, correlation " in run.out
    assert (
        "  greet: failed (strict: undefined value in the step's templates:"
        " Event.Payload.user.name.first)\n"
    ) in run.out
