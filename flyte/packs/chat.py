"""The Chat pack, a terminal chat for demos: each line typed is a ``ReceivedMessage``
event shaped like Slack's, and ``SendMessage`` prints ``flyte> message``.

Upstream's Slack quickstart flows work with ``packName: Chat``. stdout carries
only the replies, one flushed line each; logs go to stderr.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TextIO

from flyte.packs import options
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.errors import ClientError
from flyte.sdk.runner import Background
from flyte.sdk.runner import PackRunner

logger = logging.getLogger(__name__)

DEFAULT_NAME = "Chat"
DEFAULT_CHANNEL = "terminal"
#: Replies should feel instant.
CHAT_POLLING_INTERVAL = 0.5
PROMPT = "flyte> "
RECEIVED = "ReceivedMessage"
INTRO = (
    "Chat pack {name}: type a message and press Enter; Flyte's replies show as "
    f"'{PROMPT}...'. Ctrl-C quits."
)


class Printer:
    """Writes replies to a stream whole, one flushed line each, across threads."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def print(self, message: str) -> None:
        """Every line of ``message``, prefixed."""
        lines = message.splitlines() or [""]
        with self._lock:
            self._stream.write("".join(f"{PROMPT}{line}\n" for line in lines))
            self._stream.flush()


def send_message(value: Any, printer: Printer, default_channel: str) -> Event:
    """Print the message ``value`` gives; ``MessageSent`` or ``SendMessageFailed``."""
    if isinstance(value, str):
        value = {"message": value}
    if not isinstance(value, Mapping):
        return Event("SendMessageFailed", {"error": "input must be an object or text"})
    message = value.get("message")
    if not isinstance(message, str) or not message:
        return Event("SendMessageFailed", {"error": "input has no 'message' text"})
    channel = value.get("channelId") or default_channel
    printer.print(message)
    return Event("MessageSent", {"message": message, "channelId": channel})


def received_payload(line: str, channel: str, user: str, now: float) -> dict[str, Any]:
    """The ``ReceivedMessage`` payload of a typed line, in Slack's shape."""
    return {
        "channelId": channel,
        "user": {"id": user, "name": user},
        "message": line,
        "timestamp": str(now),
        "threadTimestamp": "",
    }


def chat_loop(
    runner: PackRunner,
    lines: Iterable[str],
    *,
    channel: str = DEFAULT_CHANNEL,
    user: str | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Send a ``ReceivedMessage`` per non-empty line until the lines end."""
    user = user or getpass.getuser()
    for raw in lines:
        if runner.stopping.is_set():
            return
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            runner.send_event(RECEIVED, received_payload(line, channel, user, clock()))
        except ClientError as ex:
            logger.error("Message not sent to Flyte: %s", ex)
    # Replies to what was typed may still come: keep running until stopped.
    logger.info("Input ended; still printing replies until Ctrl-C or SIGTERM")


def build_pack(
    name: str = DEFAULT_NAME,
    *,
    channel: str = DEFAULT_CHANNEL,
    out: TextIO | None = None,
    polling_interval: float = CHAT_POLLING_INTERVAL,
) -> Pack:
    """The Chat pack: ``SendMessage`` prints to ``out`` (stdout by default)."""
    printer = Printer(out or sys.stdout)
    pack = Pack(name, events=[RECEIVED], polling_interval=polling_interval)

    @pack.command("SendMessage", events=["MessageSent", "SendMessageFailed"])
    def send(value: Any) -> Event:
        return send_message(value, printer, channel)

    return pack


def background(name: str, channel: str, stdin: TextIO, out: TextIO) -> Background:
    """Read ``stdin`` into events once the pack is registered."""

    def read(runner: PackRunner) -> None:
        if stdin.isatty():
            out.write(INTRO.format(name=name) + "\n")
            out.flush()
        chat_loop(runner, stdin, channel=channel)

    return read


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run the Chat pack on this terminal until SIGINT or SIGTERM."""
    prog = "flyte pack run chat"
    parser = options.OptionParser(prog, "Chat with Flyte from this terminal.", environ)
    options.add_common(parser, DEFAULT_NAME, polling=False)
    parser.option(
        "--polling-interval",
        env="FLYTE_POLLING_INTERVAL",
        type=options.positive_float,
        default=CHAT_POLLING_INTERVAL,
        help="seconds between polls for replies, at least 0.5",
    )
    parser.option(
        "--channel",
        env="FLYTE_CHAT_CHANNEL",
        default=DEFAULT_CHANNEL,
        help="channelId of the messages typed here",
    )
    args = parser.parse(argv)
    pack = build_pack(
        args.name, channel=args.channel, polling_interval=args.polling_interval
    )
    reader = background(args.name, args.channel, sys.stdin, sys.stdout)
    return options.run(prog, pack, environ, reader)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
