"""The quickstart for real: ``flyte dev``, the Chat and Shell packs, the CLI, a flow.

A line typed into the Chat pack runs a shell command through the Shell pack, and
the output comes back to the chat: the path docs/quickstart.md walks a new user
through, with the same flow file and the same commands.
"""

from __future__ import annotations

import getpass
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import STOP_WITHIN
from tests.e2e.devserver import start_dev
from tests.e2e.devserver import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
FLOW_FILE = ROOT / "examples" / "flows" / "chat_uptime.yaml"
FLYTE = str(Path(sys.executable).parent / "flyte")
#: A reply slower than this means the pipeline is broken, not slow.
REPLY_WITHIN = 20.0


def lines_of(stream: IO[bytes]) -> queue.Queue[str]:
    """Every line ``stream`` prints, as it prints it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        with stream:
            for raw in stream:
                lines.put(raw.decode(errors="replace").rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def next_line(lines: queue.Queue[str], prefix: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line.startswith(prefix):
            return line
    pytest.fail(f"no line starting {prefix!r} within {seconds} s")


def flyte(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLYTE, *args], env=env, capture_output=True, text=True, timeout=60
    )


def start_pack(
    name: str, env: dict[str, str], log: Path, *, interactive: bool = False
) -> subprocess.Popen[bytes]:
    """``flyte pack run NAME``; an interactive pack's stdin and stdout are pipes."""
    with log.open("wb") as out:
        if interactive:
            streams = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        else:
            streams = {"stdout": out}
        return subprocess.Popen(
            [FLYTE, "pack", "run", name], env=env, stderr=out, **streams
        )


def wait_registered(base: str, pack_ids: set[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        packs = httpx.get(f"{base}/v1/packs", timeout=5).json()["packs"]
        if pack_ids <= {pack["id"] for pack in packs}:
            return
        assert time.monotonic() < deadline, f"packs registered: {packs}"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=STOP_WITHIN)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_dev(tmp_path, port)
    try:
        wait_healthy(base, process)
        yield base
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_WITHIN)


@pytest.mark.slow
def test_a_chat_message_runs_a_shell_command_and_the_output_comes_back(
    dev: str, tmp_path: Path
) -> None:
    env = {**os.environ, "FLYTE_API": dev, "FLYTE_POLLING_INTERVAL": "0.5"}
    # Given the quickstart flow applied with the CLI
    applied = flyte(env, "flows", "apply", str(FLOW_FILE))
    assert applied.returncode == 0, applied.stderr
    assert "chat_uptime" in applied.stdout
    # And the Shell and Chat packs running, each with its health endpoint
    shell_health = free_port()
    shell = start_pack(
        "shell",
        {**env, "FLYTE_PACK_HEALTH_PORT": str(shell_health)},
        tmp_path / "shell.log",
    )
    chat = start_pack(
        "chat",
        {**env, "FLYTE_PACK_HEALTH_PORT": str(free_port())},
        tmp_path / "chat.log",
        interactive=True,
    )
    assert chat.stdin is not None and chat.stdout is not None
    replies = lines_of(chat.stdout)
    try:
        wait_registered(dev, {"Shell", "Chat"})
        # When a user types the command into the chat
        typed = time.monotonic()
        chat.stdin.write(b"flyte uptime\n")
        chat.stdin.flush()
        # Then the shell's output comes back to the chat, addressed to the user
        reply = next_line(replies, "flyte> ", REPLY_WITHIN)
        print(f"reply after {time.monotonic() - typed:.2f} s: {reply}")
        assert reply.startswith(f"flyte> Hey {getpass.getuser()}! ")
        assert "load average" in reply
        # And the Shell pack reports healthy in the Go client's shape
        health = httpx.get(f"http://127.0.0.1:{shell_health}/", timeout=5)
        assert health.status_code == 200, health.text
        assert set(health.json()) >= {"FlyteApi", "Registration", "ActionPolling"}
        # And the audit, read with the CLI, shows both steps succeeded
        audit = flyte(env, "audit", "list", "--flow", "chat_uptime", "--json")
        assert audit.returncode == 0, audit.stderr
        (execution,) = json.loads(audit.stdout)["flows"]
        states = {step: a["state"]["value"] for step, a in execution["actions"].items()}
        assert states == {"run_uptime": "SUCCESS", "reply": "SUCCESS"}
    finally:
        codes = {"shell": stop(shell), "chat": stop(chat)}
        chat.stdin.close()
    # And both packs stop cleanly on SIGTERM
    assert codes == {"shell": 0, "chat": 0}, (tmp_path / "chat.log").read_text()
