"""Console page latency with 100,000 events and 100,000 actions stored (a script).

Starts a real ``flyte dev`` with its defaults (embedded nx-27017 and Redis, one
``python -m api`` process, workers, scheduler), stores packs, flows and
datastore items through the HTTP API as users do, then 100,000 processed events
and 100,000 actions (with their audit copies) through the stores in bulk, in the
shapes the engine writes. Then it times every console page with a warm server:
GETs over one keep-alive connection, as a browser tab holds, and prints p50,
p95 and p99 per page. Target: p95 under 200 ms on every page.

Run: ``.venv/bin/python bench/console/bench_console.py`` (about three minutes;
``--events 10000`` for a quick look, ``--requests N`` per page).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil  # type: ignore[import-untyped]

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.clock import new_id
from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.devserver.launch import launch_dev
from flyte.event import Event
from flyte.event import PackRef
from flyte.outcome import FlowOutcome
from flyte.outcome import OutcomeKind
from flyte.outcome import StepOutcome
from flyte.outcome import StepStatus
from flyte.store import connect
from flyte.store import open_stores
from flyte.store.events import EventStatus
from flyte.store.retention import STORED_AT

PACKS = 50
FLOWS = 20
DATASTORE_ITEMS = 100
BATCH = 2_000
#: Time spent on one page at most (once it had MIN_REQUESTS), in seconds.
PAGE_SECONDS = 30.0
MIN_REQUESTS = 20
#: The p95 every page must stay under, in milliseconds.
TARGET_P95_MS = 200.0
#: Shares of the actions' final states: mostly done, a few failed or waiting.
STATE_MIX = (
    (ActionState.SUCCESS, 0.94),
    (ActionState.FATAL, 0.03),
    (ActionState.NEW, 0.02),
    (ActionState.PENDING, 0.01),
)


class Api:
    """One keep-alive HTTP connection to the API."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, bytes]:
        """One request; returns the status and the body."""
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        return response.status, response.read()

    def post_json(self, path: str, document: Any) -> int:
        """POST ``document`` as JSON; returns the status."""
        body = json.dumps(document).encode()
        return self.call("POST", path, body, **{"Content-Type": "application/json"})[0]


def start_dev(data_dir: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """``flyte dev`` on free ports; returns it, the API port and the MongoDB port."""
    port, mongo_port = free_port(), free_port()
    dev = launch_dev(
        data_dir, port, mongo_port=mongo_port, extra_env={"LOGLEVEL": "warning"}
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Api(port).call("GET", "/health")[0] == 200:
                return dev, port, mongo_port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"flyte dev did not become healthy: see {data_dir}/dev.out")


def flow(n: int) -> dict[str, Any]:
    """A two-step flow like the quickstart's, listening to pack ``Pack{n}``."""
    return {
        "name": f"flow{n:02d}",
        "description": f"Bench flow {n}: runs a command when Pack{n} says so",
        "steps": [
            {
                "id": "run",
                "event": {"packName": f"Pack{n}", "name": "Msg"},
                "context": {"Channel": "{{ Event.Payload.channel }}"},
                "criteria": "{{ Event.Payload.n >= 0 }}",
                "command": {
                    "packName": "Shell",
                    "name": "Shell",
                    "input": "echo {{ Event.Payload.n }}",
                },
            },
            {
                "id": "reply",
                "dependsOn": ["run"],
                "event": {"packName": "Shell", "name": "Output"},
                "command": {
                    "packName": f"Pack{n}",
                    "name": "Reply",
                    "input": "{{ Event.Payload.stdout }}",
                },
            },
        ],
    }


def seed_through_api(api: Api) -> None:
    """Packs, flows and datastore items, as users and packs create them."""
    for n in range(PACKS):
        pack = {
            "name": f"Pack{n}",
            "labels": {"env": "prod" if n % 2 else "dev"},
            "events": [{"name": "Msg"}],
            "commands": [{"name": "Reply", "events": ["Replied"]}],
        }
        assert api.post_json("/v1/packs", pack) == 201
    shell = {"name": "Shell", "commands": [{"name": "Shell", "events": ["Output"]}]}
    assert api.post_json("/v1/packs", shell) == 201
    for n in range(FLOWS):
        assert api.post_json("/v1/flows", flow(n)) in (200, 201)
    for n in range(DATASTORE_ITEMS):
        boundary = "bench"
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=value; "
            f'filename="v.json"\r\nContent-Type: application/json\r\n\r\n'
            f"{json.dumps({'n': n, 'team': f'team{n}'})}\r\n--{boundary}--\r\n"
        ).encode()
        status, _ = api.call(
            "PUT",
            f"/v1/datastore/item{n:03d}",
            body,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert status in (201, 204), status


def final_state(rng: random.Random) -> ActionState:
    """An action's last state, drawn from ``STATE_MIX``."""
    pick = rng.random()
    for state, share in STATE_MIX:
        if pick < share:
            return state
        pick -= share
    return ActionState.SUCCESS


def states_until(last: ActionState, start: datetime) -> tuple[StateChange, ...]:
    """The state history an action went through to reach ``last``."""
    path = [ActionState.NEW]
    if last is not ActionState.NEW:
        path.append(ActionState.PENDING)
    if last in (ActionState.SUCCESS, ActionState.FATAL):
        path.append(last)
    return tuple(
        StateChange(state, start + timedelta(milliseconds=40 * i))
        for i, state in enumerate(path)
    )


def one_execution(
    n: int, now: datetime, rng: random.Random, uuids: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], Action]:
    """An event, its correlation link and the action it fired, as the engine writes."""
    pack = n % FLOWS
    # Spread over the last two days, the newest in the last hour.
    received = now - timedelta(seconds=rng.uniform(0, 2 * 86_400) * (n % 10 != 0))
    event = Event(
        new_id(),
        "Msg",
        PackRef(f"Pack{pack}.env.{'prod' if pack % 2 else 'dev'}", f"Pack{pack}"),
        received,
        received,
        {"n": n, "channel": f"C{n % 7}", "text": f"message {n}"},
    )
    correlation, action_id = new_id(), new_id()
    outcome = FlowOutcome(
        f"flow{pack:02d}",
        uuids[f"flow{pack:02d}"],
        correlation,
        OutcomeKind.STARTED,
        (StepOutcome("run", StepStatus.FIRED, action_id=action_id),),
    )
    last = final_state(rng)
    states = states_until(last, received)
    action = Action(
        id=action_id,
        name="Shell",
        pack_name="Shell",
        correlation_id=correlation,
        flow_name=outcome.flow_name,
        flow_uuid=outcome.flow_uuid,
        step_id="run",
        trigger=event,
        states=states,
        input=f"echo {n}",
        context={"Channel": f"C{n % 7}"},
        attempts=0 if last is ActionState.NEW else 1,
        lease_expires_at=now + timedelta(minutes=5)
        if last is ActionState.PENDING
        else None,
        taken_by=PackRef("Shell", "Shell") if last is not ActionState.NEW else None,
    )
    event_doc = {
        "_id": event.id,
        "event": event.to_document(),
        "status": EventStatus.PROCESSED.value,
        "outcome": [outcome.to_document()],
        "reason": "",
        STORED_AT: received,
    }
    link = {
        "_id": f"{correlation}#{event.id}",
        "correlationId": correlation,
        "eventId": event.id,
        STORED_AT: received,
    }
    return event_doc, link, action


def seed_in_bulk(mongo_port: int, count: int) -> tuple[str, str]:
    """``count`` processed events and their actions (and audit copies), in batches.

    Returns the id of the last event and of its correlation.
    """
    db = connect(Settings(mongo_uri=f"mongodb://127.0.0.1:{mongo_port}/"))
    stores = open_stores(db)
    rng = random.Random(27017)
    now = datetime.now(UTC)
    uuids = {f.name: f.uuid for f in stores.flows.list_flows()}
    pool = ThreadPoolExecutor(max_workers=2)
    for start in range(0, count, BATCH):
        rows = [
            one_execution(n, now, rng, uuids)
            for n in range(start, min(count, start + BATCH))
        ]
        # The event store writes one event at a time (the API's path); for
        # 100,000 the bench writes the same documents in batches, events and
        # actions side by side.
        events = pool.submit(
            db["event"].insert_many, [row[0] for row in rows], ordered=False
        )
        links = pool.submit(
            db["correlationEvent"].insert_many, [row[1] for row in rows], ordered=False
        )
        stores.actions.insert_many([row[2] for row in rows])
        events.result()
        links.result()
        print(
            f"\r  stored {start + len(rows):,} events and actions", end="", flush=True
        )
    print()
    pool.shutdown()
    event_doc, _, action = rows[-1]
    return str(event_doc["_id"]), action.correlation_id


def server_cpu_seconds(dev: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the API process and MongoDB (nx-27017)."""
    used = 0.0
    for process in psutil.Process(dev.pid).children(recursive=True):
        try:
            command = " ".join(process.cmdline())
            if "-m api" in command or "nx_27017" in command:
                times = process.cpu_times()
                used += times.user + times.system
        except psutil.Error:
            continue
    return used


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pages(event_id: str, correlation: str) -> dict[str, str]:
    """Every console page; the one-item pages show ``event_id`` and ``correlation``."""
    return {
        "overview": "/console",
        "overview.json": "/console/overview.json",
        "packs": "/console/packs",
        "pack": f"/console/packs/{quote('Pack3.env.prod', safe='')}",
        "flows": "/console/flows",
        "flow": "/console/flows/flow03",
        "events": "/console/events",
        "events?pack&status": "/console/events?pack=Pack3&status=processed",
        "events, deepest page": "/console/events?offset=500",
        "event": f"/console/events/{event_id}",
        "executions": "/console/executions",
        "executions?flowName": "/console/executions?flowName=flow03",
        "executions, deepest page": "/console/executions?offset=500",
        "execution": f"/console/executions/{correlation}",
        "datastore": "/console/datastore",
        "datastore item": "/console/datastore/item042",
        "queues": "/console/queues",
        "queue": "/console/queues/events",
        "metrics": "/metrics",
    }


def time_page(
    api: Api, path: str, requests: int, dev: subprocess.Popen[bytes]
) -> dict[str, float]:
    """Warm the page up, then time up to ``requests`` GETs; milliseconds.

    Also the server's CPU time per request (API process and MongoDB): on a
    busy machine the wall times grow with the load, the CPU time much less.
    """
    for _ in range(5):
        status, _ = api.call("GET", path)
        if status != 200:
            return {"status": status}
    times: list[float] = []
    deadline = time.monotonic() + PAGE_SECONDS
    cpu_before = server_cpu_seconds(dev)
    # A slow page gets fewer requests (at least MIN_REQUESTS), not minutes.
    while len(times) < requests and (
        len(times) < MIN_REQUESTS or time.monotonic() < deadline
    ):
        started = time.perf_counter()
        api.call("GET", path)
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (server_cpu_seconds(dev) - cpu_before) * 1000 / len(times)
    quantiles = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
    return {"cpu": cpu_ms} | {q: percentile(times, p) for q, p in quantiles.items()}


def seed(port: int, mongo_port: int, data_dir: Path, events: int) -> tuple[str, str]:
    """Store everything once per data directory; a kept directory is reused."""
    marker = data_dir / "bench-seeded.json"
    if marker.exists():
        seeded: dict[str, str] = json.loads(marker.read_text())
        print(f"  reusing the data seeded in {data_dir}")
        return seeded["event"], seeded["correlation"]
    seed_through_api(Api(port))
    started = time.monotonic()
    event_id, correlation = seed_in_bulk(mongo_port, events)
    print(f"  seeding took {time.monotonic() - started:.0f} s")
    marker.write_text(json.dumps({"event": event_id, "correlation": correlation}))
    return event_id, correlation


def time_pages(
    dev: subprocess.Popen[bytes],
    port: int,
    event_id: str,
    correlation: str,
    requests: int,
    only: str | None = None,
) -> None:
    """Time every page (or those named ``only``) and print the table."""
    api = Api(port)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"\n{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'CPU ms':>9}")
    slow = []
    for name, path in pages(event_id, correlation).items():
        if only and only not in name:
            continue
        result = time_page(api, path, requests, dev)
        if "status" in result:
            print(f"{name:<22}  answered {result['status']:.0f}")
            slow.append(name)
            continue
        print(
            f"{name:<22}{result['p50']:>9.1f}{result['p95']:>9.1f}"
            f"{result['p99']:>9.1f}{result['cpu']:>9.1f}"
        )
        if result["p95"] >= TARGET_P95_MS:
            slow.append(name)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"\nover the {TARGET_P95_MS:.0f} ms p95 target: {slow or 'none'}")


def main() -> None:
    """Seed (or reuse a seeded --data-dir), time every page, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", help="time only the pages whose name has this")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep flyte dev's data here; a second run reuses it without seeding",
    )
    args = parser.parse_args()
    # Stop flyte dev on SIGTERM too, not only on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        dev, port, mongo_port = start_dev(data_dir)
        try:
            event_id, correlation = seed(port, mongo_port, data_dir, args.events)
            time_pages(dev, port, event_id, correlation, args.requests, args.only)
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=30)


if __name__ == "__main__":
    main()
