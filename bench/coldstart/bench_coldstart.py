"""Cold start: how soon the first event after a fresh ``flyte dev`` is takeable.

Upstream's acceptance test and Postman collections take the action about 100 ms
after the event's 202. Each run starts a fresh ``flyte dev`` (new data directory,
embedded nx-27017 and Redis, API, workers, scheduler), waits for /health, stores a
flow and registers the two packs as such a test does, posts the first event, then
polls take every 2 ms until the action comes. A second event a second later shows
what the same wait costs once everything is warm, i.e. on this machine at this
load. It prints each run and p50/max of the time from the event's 202 to the
first 200 from take.

Run: ``.venv/bin/python bench/coldstart/bench_coldstart.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from flyte.devserver.embedded import free_port
from flyte.devserver.launch import launch_dev

FLOW = {
    "name": "coldstart",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "criteria": "{{ Event.Payload.n >= 0 }}",
            "context": {"who": "{{ Event.Payload.user | default('someone') }}"},
            "command": {
                "packName": "Shell",
                "name": "Run",
                "input": {"n": "{{ Event.Payload.n }}", "who": "{{ Context.who }}"},
            },
        }
    ],
}
#: Upstream's acceptance test takes the action this long after the 202.
TARGET_MS = 100.0
#: Between two takes while waiting for the action.
POLL_SECONDS = 0.002
HEALTHY_WITHIN = 60.0
TAKEABLE_WITHIN = 10.0


class Api:
    """One keep-alive HTTP connection, as a pack holds."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST JSON; return the status and the decoded body (or None)."""
        self._conn.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json"}
        )
        resp = self._conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None


def start_dev(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """A fresh ``flyte dev`` on ``port``, its output in ``data_dir/dev.out``."""
    return launch_dev(data_dir, port, extra_env={"LOGLEVEL": "info"})


def wait_healthy(port: int, dev: subprocess.Popen[bytes]) -> float:
    """Seconds until /health answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < HEALTHY_WITHIN:
        if dev.poll() is not None:
            raise SystemExit("flyte dev exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"/health did not answer 200 within {HEALTHY_WITHIN} s")


def prepare(api: Api) -> None:
    """Register both packs and store the flow, as the acceptance test does."""
    for pack in ("Slack", "Shell"):
        status, _ = api.post("/v1/packs", {"name": pack})
        assert status in (200, 201), status
    status, body = api.post("/v1/flows", FLOW)
    assert status == 201, body


def takeable_ms(api: Api, n: int) -> float:
    """Milliseconds from an event's 202 to its action's first 200 on take."""
    status, _ = api.post(
        "/v1/packs/Slack/events", {"event": "Msg", "payload": {"n": n, "user": "ann"}}
    )
    accepted = time.perf_counter()
    assert status == 202, status
    while time.perf_counter() - accepted < TAKEABLE_WITHIN:
        status, _ = api.post("/v1/packs/Shell/actions/take", None)
        if status == 200:
            return (time.perf_counter() - accepted) * 1000
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"no action within {TAKEABLE_WITHIN} s")


def one_run(settle: float) -> tuple[float, float, float]:
    """(seconds to healthy, ms to takeable for the first and the next event)."""
    with tempfile.TemporaryDirectory(prefix="flyte-coldstart-") as tmp:
        port = free_port()
        dev = start_dev(Path(tmp), port)
        try:
            healthy = wait_healthy(port, dev)
            time.sleep(settle)
            api = Api(port)
            prepare(api)
            first = takeable_ms(api, 1)
            # The same wait after a warm event: what the machine itself costs.
            time.sleep(1)
            return healthy, first, takeable_ms(api, 2)
        finally:
            os.killpg(dev.pid, signal.SIGINT)
            try:
                dev.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
                dev.wait()


def main() -> None:
    """Run the cold start ``--runs`` times and print each run and p50/max."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after /health answers before the first request",
    )
    args = parser.parse_args()
    firsts: list[float] = []
    nexts: list[float] = []
    for run in range(1, args.runs + 1):
        healthy, first, then = one_run(args.settle)
        firsts.append(first)
        nexts.append(then)
        print(
            f"run {run:2d}: healthy after {healthy:5.2f} s, first event takeable"
            f" after {first:6.1f} ms (a later one: {then:6.1f} ms)"
        )
    within = sum(t <= TARGET_MS for t in firsts)
    print(
        f"first event: p50 {statistics.median(firsts):.1f} ms,"
        f" max {max(firsts):.1f} ms; {within} of {len(firsts)} within"
        f" {TARGET_MS:.0f} ms. A later event: p50 {statistics.median(nexts):.1f} ms,"
        f" max {max(nexts):.1f} ms"
    )


if __name__ == "__main__":
    main()
