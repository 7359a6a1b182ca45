"""The Shell pack, upstream's shape: command ``Shell`` runs its input, a bash script,
and answers ``Output {stdout, stderr, exit_code}``.

Each script runs as ``bash -c script`` (``sh`` without bash) in a process group of
its own, so a timeout kills everything it started. Output is capped per stream.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO
from typing import Any

from flyte.packs import options
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk import fatal_event
from flyte.sdk.definition import DEFAULT_POLLING_INTERVAL

logger = logging.getLogger(__name__)

DEFAULT_NAME = "Shell"
#: Seconds a script may run before its process group is killed.
DEFAULT_TIMEOUT_SECONDS = 60.0
#: Bytes of stdout, and of stderr, kept in the result.
DEFAULT_MAX_OUTPUT_BYTES = 65536
#: The exit code of a timed-out script, as coreutils ``timeout`` reports it.
TIMEOUT_EXIT_CODE = 124
#: How long to wait for the pipes to close once the process group is killed.
KILL_GRACE_SECONDS = 2.0
#: Never handed to scripts: a flow's script must not read the pack's credentials.
HIDDEN_VARIABLES = ("FLYTE_JWT",)
_CHUNK = 65536


@dataclass(frozen=True)
class ShellSettings:
    """How scripts run."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    workdir: str | None = None
    shell: str = shutil.which("bash") or "sh"


class _Capture:
    """Reads a stream to its end, keeping only its first ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._kept = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        # Keep reading past the cap: a script blocked on a full pipe never ends.
        while chunk := os.read(self._stream.fileno(), _CHUNK):
            with self._lock:
                room = max(0, self._limit - len(self._kept))
                self._kept += chunk[:room]
                self._dropped += len(chunk) - min(room, len(chunk))

    def text(self) -> str:
        """What was kept, decoded, with a marker when bytes were dropped."""
        with self._lock:
            text = self._kept.decode("utf-8", errors="replace")
            if self._dropped:
                text += f"\n[... truncated {self._dropped} bytes]"
        return text


def run_script(script: str, settings: ShellSettings) -> dict[str, Any]:
    """Run ``script``; the ``Output`` payload (with ``timed_out`` when it timed out)."""
    deadline = time.monotonic() + settings.timeout
    process = subprocess.Popen(
        [settings.shell, "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=settings.workdir,
        env=_script_environment(),
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    captures = [
        _Capture(process.stdout, settings.max_output_bytes),
        _Capture(process.stderr, settings.max_output_bytes),
    ]
    # Done when the script has exited and nothing it started holds the pipes.
    timed_out = not _wait(process, captures, deadline)
    if timed_out:
        _kill_group(process)
        _wait(process, captures, time.monotonic() + KILL_GRACE_SECONDS)
    if not any(capture.thread.is_alive() for capture in captures):
        # Else a process that left the group still holds a pipe: its reader
        # keeps the stream, and the result has what was read so far.
        process.stdout.close()
        process.stderr.close()
    return _output(process, captures, settings.timeout, timed_out)


def _wait(
    process: subprocess.Popen[bytes], captures: list[_Capture], deadline: float
) -> bool:
    try:
        process.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    for capture in captures:
        capture.thread.join(max(0.0, deadline - time.monotonic()))
    return not any(capture.thread.is_alive() for capture in captures)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the whole group has already gone
    process.wait()


def _output(
    process: subprocess.Popen[bytes],
    captures: list[_Capture],
    timeout: float,
    timed_out: bool,
) -> dict[str, Any]:
    stdout, stderr = (capture.text() for capture in captures)
    if timed_out:
        if stderr and not stderr.endswith("\n"):
            stderr += "\n"
        stderr += f"[flyte: timed out after {timeout:g} s; process group killed]\n"
        return {
            "stdout": stdout,
            "stderr": stderr,
            "exit_code": TIMEOUT_EXIT_CODE,
            "timed_out": True,
        }
    return {"stdout": stdout, "stderr": stderr, "exit_code": _exit_code(process)}


def _exit_code(process: subprocess.Popen[bytes]) -> int:
    code = process.returncode
    # Killed by signal N: report 128 + N, as a shell does.
    return 128 - code if code < 0 else code


def _script_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}


def build_pack(
    name: str = DEFAULT_NAME,
    settings: ShellSettings | None = None,
    *,
    polling_interval: float = DEFAULT_POLLING_INTERVAL,
) -> Pack:
    """The Shell pack: one command, ``Shell``, answering ``Output``."""
    settings = settings or ShellSettings()
    pack = Pack(name, polling_interval=polling_interval)

    @pack.command("Shell", events=["Output"])
    def shell(script: Any) -> Event:
        if not isinstance(script, str):
            kind = type(script).__name__ if script is not None else "null"
            return fatal_event(f"input must be a string: the script to run, not {kind}")
        if not script.strip():
            # Upstream answers Output with exit code 1 for an empty script.
            return Event(
                "Output", {"stdout": "", "stderr": "no script given", "exit_code": 1}
            )
        payload = run_script(script, settings)
        logger.info("Shell script exited %d", payload["exit_code"])
        return Event("Output", payload)

    return pack


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run the Shell pack until SIGINT or SIGTERM."""
    prog = "flyte pack run shell"
    parser = options.OptionParser(prog, "Run bash scripts for Flyte flows.", environ)
    options.add_common(parser, DEFAULT_NAME)
    parser.option(
        "--timeout",
        env="FLYTE_SHELL_TIMEOUT",
        type=options.positive_float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds before a script's process group is killed (exit code 124)",
    )
    parser.option(
        "--max-output-bytes",
        env="FLYTE_SHELL_MAX_OUTPUT_BYTES",
        type=options.positive_int,
        default=DEFAULT_MAX_OUTPUT_BYTES,
        help="bytes of stdout and of stderr kept; the rest is counted and dropped",
    )
    parser.option(
        "--workdir",
        env="FLYTE_SHELL_WORKDIR",
        type=_directory,
        help="directory scripts run in; unset, the pack's own",
    )
    args = parser.parse(argv)
    settings = ShellSettings(args.timeout, args.max_output_bytes, args.workdir)
    pack = build_pack(args.name, settings, polling_interval=args.polling_interval)
    return options.run(prog, pack, environ)


def _directory(raw: str) -> str:
    if not os.path.isdir(raw):
        raise argparse.ArgumentTypeError(f"{raw!r} is not a directory")
    return raw


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
