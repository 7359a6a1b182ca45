"""The Chat pack: replies printed, lines turned into events, and a terminal session
driven through a pipe against the real API."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from flyte.packs.chat import Printer
from flyte.packs.chat import build_pack
from flyte.packs.chat import chat_loop
from flyte.packs.chat import received_payload
from flyte.packs.chat import send_message
from flyte.sdk import Event
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action

ECHO_FLOW = {
    "name": "chat-echo",
    "steps": [
        {
            "id": "reply",
            "event": {"packName": "Chat", "name": "ReceivedMessage"},
            "criteria": "{{ Event.Payload.message|match:'^echo ' }}",
            "command": {
                "packName": "Chat",
                "name": "SendMessage",
                "input": {
                    "channelId": "{{ Event.Payload.channelId }}",
                    "message": "{{ Event.Payload.message|slice:'5:' }}",
                },
            },
        }
    ],
}


def send(value: object) -> Event:
    return build_pack().commands["SendMessage"].handler(value)


def test_send_message_prints_one_prefixed_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = send({"message": "hello", "channelId": "C1"})

    assert capsys.readouterr().out == "flyte> hello\n"
    assert event == Event("MessageSent", {"message": "hello", "channelId": "C1"})


def test_each_line_of_a_long_message_is_prefixed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    send("one\ntwo\n\nfour")

    assert capsys.readouterr().out == "flyte> one\nflyte> two\nflyte> \nflyte> four\n"


def test_a_plain_string_is_the_message_to_the_default_channel() -> None:
    out = io.StringIO()

    event = send_message("hi", Printer(out), "terminal")

    assert out.getvalue() == "flyte> hi\n"
    assert event.payload == {"message": "hi", "channelId": "terminal"}


@pytest.mark.parametrize(
    "value", [{"channelId": "C1"}, {"message": ""}, {"message": 3}, 42]
)
def test_input_without_a_message_fails_and_prints_nothing(
    value: object, capsys: pytest.CaptureFixture[str]
) -> None:
    event = send(value)

    assert event.name == "SendMessageFailed"
    assert "error" in event.payload
    assert capsys.readouterr().out == ""


def test_a_typed_line_becomes_a_slack_shaped_payload() -> None:
    assert received_payload("hello there", "terminal", "alice", 1764000000.25) == {
        "channelId": "terminal",
        "user": {"id": "alice", "name": "alice"},
        "message": "hello there",
        "timestamp": "1764000000.25",
        "threadTimestamp": "",
    }


def test_typed_lines_reach_a_flow_and_its_reply_is_printed(live_api: str) -> None:
    # Given the echo flow and the Chat pack printing to a buffer
    post_flow(live_api, ECHO_FLOW)
    out = io.StringIO()
    runner = start(build_pack(out=out, channel="C9"), live_api)
    try:
        # When two lines are typed, one of them blank
        chat_loop(
            runner,
            ["\n", "echo hi there\n"],
            channel="C9",
            user="alice",
            clock=lambda: 1.5,
        )

        # Then the echo flow replied through SendMessage
        action = wait_for_action(live_api, "chat-echo", "reply")
    finally:
        runner.stop()
    assert action["trigger"]["payload"] == received_payload(
        "echo hi there", "C9", "alice", 1.5
    )
    assert action["result"]["payload"] == {"message": "hi there", "channelId": "C9"}
    assert out.getvalue() == "flyte> hi there\n"


def test_the_chat_command_is_driven_through_pipes(live_api: str) -> None:
    # Given the echo flow and the chat pack running as a command
    post_flow(live_api, ECHO_FLOW)
    environ = {**os.environ, "FLYTE_API": live_api, "FLYTE_PACK_HEALTH_PORT": "0"}
    chat = subprocess.Popen(
        [sys.executable, "-m", "flyte.packs.chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environ,
        text=True,
    )
    timer = threading.Timer(8, chat.kill)
    timer.start()
    try:
        # When a line is typed
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write("echo piped\n")
        chat.stdin.flush()

        # Then the reply is a line of stdout, and SIGTERM ends the pack cleanly
        assert chat.stdout.readline() == "flyte> piped\n"
        chat.send_signal(signal.SIGTERM)
        assert chat.wait(5) == 0
    finally:
        timer.cancel()
        chat.kill()
        chat.wait()
        chat.stdin.close()
        chat.stdout.close()
    assert httpx.get(f"{live_api}/v1/packs/Chat").status_code == 200
