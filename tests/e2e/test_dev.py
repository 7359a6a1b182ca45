"""End to end: a real ``flyte dev`` starts everything, serves packs, stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import STOP_WITHIN
from tests.e2e.devserver import start_dev
from tests.e2e.devserver import wait_healthy


def dead_pid() -> int:
    """The pid of a process that has already exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"]
)
def test_flyte_dev_serves_packs_and_leaves_no_process_behind(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # Given a stale pid file, as a crash of the embedded MongoDB leaves behind
    (tmp_path / "mongo.pid").write_text(str(dead_pid()))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dev = start_dev(tmp_path, port)
    try:
        # When flyte dev starts, it is healthy well within the bound
        elapsed = wait_healthy(base, dev)
        print(f"flyte dev healthy after {elapsed:.2f} s")
        # And a pack registers over HTTP
        status, body = post_json(
            f"{base}/v1/packs", {"name": "Slack", "labels": {"env": "dev"}}
        )
        assert status == 201
        assert body["id"] == "Slack.env.dev"
        with urllib.request.urlopen(
            f"{base}/v1/packs/Slack.env.dev", timeout=5
        ) as resp:
            assert json.loads(resp.read())["status"] == "live"
        # And the banner gives the exact line for the CLI in another shell
        banner = (tmp_path / "dev.out").read_text()
        assert f"\n  export FLYTE_API=http://127.0.0.1:{port}\n" in banner
        processes = psutil.Process(dev.pid).children(recursive=True)
        assert len(processes) >= 5
    finally:
        # Then the signal stops it, and every process it started is gone
        os.kill(dev.pid, stop_signal)
        code = dev.wait(timeout=STOP_WITHIN)
    gone, alive = psutil.wait_procs(processes, timeout=5)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"
    assert code == 0, (tmp_path / "dev.out").read_text()[-3000:]


@pytest.mark.slow
def test_ctrl_c_stops_everything_when_the_output_reader_has_gone(
    tmp_path: Path,
) -> None:
    # Given `flyte dev | tee log`, healthy
    port = free_port()
    dev = start_dev(tmp_path, port, into_pipe=True)
    assert dev.stdout is not None
    try:
        wait_healthy(f"http://127.0.0.1:{port}", dev)
        processes = psutil.Process(dev.pid).children(recursive=True)
        # When Ctrl-C stops tee too, so the shutdown messages meet a closed pipe
        dev.stdout.close()
        os.kill(dev.pid, signal.SIGINT)
        dev.wait(timeout=STOP_WITHIN)
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
    # Then every process it started is gone all the same
    gone, alive = psutil.wait_procs(processes, timeout=5)
    left_behind = [p.pid for p in alive]
    for process in alive:
        process.kill()
    assert left_behind == [], f"left behind: {left_behind}"


def test_flyte_dev_on_a_taken_port_says_so_in_one_line_and_starts_nothing(
    tmp_path: Path,
) -> None:
    # Given something already listens on the API's port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When flyte dev starts on it
        env = {**os.environ, "FLYTE_PORT": str(port)}
        env["FLYTE_DATA_DIR"] = str(tmp_path / "data")
        done = subprocess.run(
            [str(Path(sys.executable).parent / "flyte"), "dev"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    # Then one line names the port and FLYTE_PORT, and it exits 1
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"flyte dev: port {port} is in use; set FLYTE_PORT to another port "
        f"(e.g. FLYTE_PORT={port + 1} flyte dev)\n"
    )
    # And nothing was started: not even its data directory was made
    assert not (tmp_path / "data").exists()
