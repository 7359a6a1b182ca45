"""Benchmark of the Python pack SDK on ``flyte dev`` (a script, not a test).

Starts a real ``flyte dev`` and measures one SDK pack draining a backlog of
actions: how many actions per second it takes, runs and reports, with an
instant handler and with a handler that waits 50 ms (an API call, say), at 1, 4
and 8 handlers at once.

Run from the repository root: ``.venv/bin/python -m bench.sdk.bench_pack``.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.e2e.bench_e2e import start_dev
from flyte.devserver.embedded import free_port
from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Pack

FLOW = {
    "name": "sdk_bench",
    "steps": [
        {
            "id": "work",
            "event": {"packName": "Source", "name": "Go"},
            "command": {
                "packName": "Worker",
                "name": "Work",
                "input": "{{ Event.Payload }}",
            },
        }
    ],
}


def queue_actions(api: str, count: int) -> None:
    """Send ``count`` events that each create one action for the Worker pack."""
    source = Pack("Source", events=["Go"]).start(
        ClientConfig(api_url=api, health_port=0)
    )
    locations = [source.send_event("Go", n) for n in range(count)]
    source.stop()
    with httpx.Client(timeout=10) as client:
        for location in locations[-20:]:
            while client.get(str(location)).json().get("status") != "processed":
                time.sleep(0.05)
    time.sleep(1.0)  # the last events' siblings may still be in flight


def drain(api: str, count: int, concurrency: int, work_seconds: float) -> float:
    """Actions per second of one pack running ``count`` queued actions."""
    done = threading.Semaphore(0)
    pack = Pack("Worker", polling_interval=0.5, max_concurrent_actions=concurrency)

    @pack.command("Work", events=["Done"])
    def work(value: Any) -> Event:
        if work_seconds:
            time.sleep(work_seconds)
        done.release()
        return Event("Done", value)

    started = time.monotonic()
    runner = pack.start(ClientConfig(api_url=api, health_port=0))
    for _ in range(count):
        done.acquire()
    runner.stop()  # returns once every result is posted
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        dev = start_dev(Path(data_dir), port, free_port(), free_port())
        api = f"http://127.0.0.1:{port}"
        try:
            assert httpx.post(f"{api}/v1/flows", json=FLOW).status_code == 201
            for work_seconds in (0.0, 0.05):
                for concurrency in (1, 4, 8):
                    queue_actions(api, args.actions)
                    rate = drain(api, args.actions, concurrency, work_seconds)
                    print(
                        f"handler {work_seconds * 1000:.0f} ms, {concurrency} at once: "
                        f"{rate:.0f} actions/s",
                        flush=True,
                    )
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(30)


if __name__ == "__main__":
    main()
