"""End-to-end benchmark of Flyte on ``flyte dev``'s defaults (a script, not a test).

Starts a real ``flyte dev`` (embedded nx-27017 and Redis, API, workers, scheduler)
in a temporary directory and measures, over HTTP like real packs:

  (a) latency from POST of an event to its action being takeable, at 50 events/s;
  (b) sustained throughput, events in -> actions taken, and the raw single-client
      insert_one rate of the same MongoDB server for comparison;
  (c) per-event engine time with 10,000 non-matching flows stored vs 10;
  (d) take latency with 100,000 NEW actions queued for other packs vs none.

(a) and (b) also print where each event's cost goes: CPU milliseconds per event
of each process role and of all flyte dev processes together (the load generator
apart), and MongoDB commands per event by stage and by stage, collection and
command, the difference of ``flyte_mongo_commands_total`` scraped from
``GET /metrics`` before and after the run.

Run: ``.venv/bin/python bench/e2e/bench_e2e.py`` (about three minutes).
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
import threading
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.clock import new_id
from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.devserver.launch import launch_dev
from flyte.engine import FlowEngine
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import parse_flow
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from templates import TemplateEngine

FLOW: dict[str, Any] = {
    "name": "bench",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "criteria": "{{ Event.Payload.n >= 0 }}",
            "command": {
                "packName": "Shell",
                "name": "Run",
                "input": "{{ Event.Payload.n }}",
            },
        }
    ],
}


#: How long a taker of the throughput run waits after an empty take (real packs
#: wait 0.5 to 5 s; this keeps up with hundreds of actions per second).
TAKER_IDLE_SECONDS = 0.05


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


def start_dev(
    data_dir: Path, port: int, mongo_port: int, redis_port: int
) -> subprocess.Popen[bytes]:
    dev = launch_dev(
        data_dir,
        port,
        mongo_port=mongo_port,
        redis_port=redis_port,
        extra_env={"LOGLEVEL": "warning"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return dev
        except OSError:
            time.sleep(0.1)
    raise SystemExit("flyte dev did not become healthy")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_latency(port: int, rate: float, count: int) -> dict[str, float]:
    """(a) POST -> takeable latency at a steady rate, one taker polling as a pack."""
    posted: dict[int, float] = {}
    taken: dict[int, float] = {}
    done = threading.Event()

    def taker() -> None:
        api = Api(port)
        while not done.is_set():
            status, body = api.post("/v1/packs/Shell/actions/take", None)
            if status == 200:
                taken[int(body["input"])] = time.perf_counter()
            else:
                time.sleep(0.001)

    thread = threading.Thread(target=taker, daemon=True)
    thread.start()
    api = Api(port)
    start = time.perf_counter()
    for n in range(count):
        time.sleep(max(0.0, start + n / rate - time.perf_counter()))
        posted[n] = time.perf_counter()
        api.post("/v1/packs/Slack/events", {"event": "Msg", "payload": {"n": n}})
    deadline = time.monotonic() + 30
    while len(taken) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    thread.join()
    latencies = [(taken[n] - posted[n]) * 1000 for n in posted if n in taken]
    return {
        "events": count,
        "taken": len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


def measure_throughput(
    port: int, events: int, posters: int, takers: int
) -> dict[str, float]:
    """(b) a burst of events posted as fast as possible, each to be taken as an action.

    Posting, matching and taking overlap, as in production; the rate is the burst
    size over the time until its last action was taken, so a backlog left behind
    counts against it.
    """
    taken = [0]
    lock = threading.Lock()
    next_n = iter(range(events))

    def post_loop() -> None:
        api = Api(port)
        for n in iter(lambda: next(next_n, None), None):
            api.post("/v1/packs/Slack/events", {"event": "Msg", "payload": {"n": n}})

    def take_loop() -> None:
        api = Api(port)
        while taken[0] < events:
            status, _ = api.post("/v1/packs/Shell/actions/take", None)
            if status == 200:
                with lock:
                    taken[0] += 1
            else:
                # Like a pack: poll again at once after an action, else wait.
                time.sleep(TAKER_IDLE_SECONDS)

    posting = [threading.Thread(target=post_loop) for _ in range(posters)]
    taking = [threading.Thread(target=take_loop) for _ in range(takers)]
    start = time.monotonic()
    for thread in posting + taking:
        thread.start()
    for thread in posting:
        thread.join()
    posted_after = time.monotonic() - start
    for thread in taking:
        thread.join()
    elapsed = time.monotonic() - start
    return {
        "events": events,
        "posting_seconds": posted_after,
        "events_in_per_s": events / posted_after,
        "seconds_until_last_action_taken": elapsed,
        "end_to_end_events_per_s": events / elapsed,
    }


def measure_insert_rate(mongo_port: int, seconds: float = 3.0) -> float:
    """The raw single-client insert_one rate of the same MongoDB server."""
    client: MongoClient[dict[str, Any]] = MongoClient(port=mongo_port)
    collection = client["bench_raw"]["docs"]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        collection.insert_one({"_id": new_id(), "n": n, "payload": {"text": "x" * 100}})
        n += 1
    rate = n / (time.perf_counter() - start)
    client.drop_database("bench_raw")
    client.close()
    return rate


def make_action(pack: str, n: int, now: datetime) -> Action:
    trigger = Event(new_id(), "Msg", PackRef("Slack", "Slack"), now, now, {"n": n})
    return Action(
        id=new_id(),
        name="Run",
        pack_name=pack,
        correlation_id=new_id(),
        flow_name="bench",
        flow_uuid="bench",
        step_id="run",
        trigger=trigger,
        input=str(n),
        states=(StateChange(ActionState.NEW, now),),
    )


def measure_flow_scaling(mongo_port: int, events: int) -> dict[str, float]:
    """(c) engine time per event with 10 vs 10,000 non-matching flows stored."""
    db = connect(
        Settings(
            mongo_uri=f"mongodb://127.0.0.1:{mongo_port}/", mongo_database="bench_c"
        )
    )
    ensure_indexes(db)
    stores = open_stores(db)
    engine = FlowEngine(stores, TemplateEngine())
    check = TemplateEngine().check_syntax
    stores.flows.add(parse_flow(FLOW, check))

    def add_other_flows(start: int, stop: int) -> None:
        for i in range(start, stop):
            other = {**FLOW, "name": f"other-{i}"}
            other["steps"] = [
                {**FLOW["steps"][0], "event": {"packName": f"P{i}", "name": "Msg"}}
            ]
            stores.flows.add(parse_flow(other, check))

    def time_events() -> float:
        samples = []
        for n in range(events):
            now = datetime.now(UTC)
            event = Event(
                new_id(), "Msg", PackRef("Slack", "Slack"), now, now, {"n": n}
            )
            stores.events.add(event, now)
            start = time.perf_counter()
            engine.process(event.id)
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    add_other_flows(0, 10)
    few = time_events()
    add_other_flows(10, 10_000)
    many = time_events()
    db.client.drop_database("bench_c")
    return {
        "ms_per_event_10_flows": few,
        "ms_per_event_10000_flows": many,
        "ratio": many / few,
    }


def measure_take_scaling(port: int, mongo_port: int, takes: int) -> dict[str, float]:
    """(d) take latency with 100,000 NEW actions queued for other packs vs none."""
    db = connect(Settings(mongo_uri=f"mongodb://127.0.0.1:{mongo_port}/"))
    actions = open_stores(db).actions
    api = Api(port)

    def time_takes() -> float:
        now = datetime.now(UTC)
        actions.insert_many([make_action("Shell", n, now) for n in range(takes)])
        samples = []
        for _ in range(takes):
            start = time.perf_counter()
            status, _ = api.post("/v1/packs/Shell/actions/take", None)
            samples.append((time.perf_counter() - start) * 1000)
            assert status == 200
        return statistics.median(samples)

    empty = time_takes()
    now = datetime.now(UTC)
    for batch in range(100):
        actions.insert_many([make_action(f"Other{batch}", n, now) for n in range(1000)])
    loaded = time_takes()
    db.client.close()
    return {
        "take_ms_none_queued": empty,
        "take_ms_100k_queued": loaded,
        "ratio": loaded / empty,
    }


def cpu_seconds(dev: subprocess.Popen[bytes]) -> dict[str, float]:
    """CPU seconds used so far by each process of ``flyte dev``, and by this one."""
    usage: dict[str, float] = dict.fromkeys([*(r for r, _ in ROLES), "other"], 0.0)
    for process in [
        psutil.Process(dev.pid),
        *psutil.Process(dev.pid).children(recursive=True),
    ]:
        try:
            name = " ".join(process.cmdline())
            times = process.cpu_times()
        except psutil.Error:
            continue
        role = next((r for r, mark in ROLES if mark in name), "other")
        usage[role] = usage.get(role, 0.0) + times.user + times.system
    own = psutil.Process().cpu_times()
    usage[LOAD_GENERATOR] = own.user + own.system
    return usage


#: How to recognise each process of flyte dev by its command line.
ROLES = (
    ("mongo (nx-27017)", "nx_27017"),
    ("redis", "redis-server"),
    ("web (API)", "-m api"),
    ("worker", "dramatiq"),
    ("scheduler", "workers.scheduler"),
)
#: This script's own CPU, listed apart from flyte dev's total.
LOAD_GENERATOR = "load generator (this script)"
#: A Mongo command's labels: stage, collection, command.
CommandKey = tuple[str, str, str]


def mongo_commands(port: int) -> dict[CommandKey, float]:
    """``flyte_mongo_commands_total`` of all flyte dev processes, from /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return {
        (
            sample.labels["stage"],
            sample.labels["collection"],
            sample.labels["command"],
        ): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "flyte_mongo_commands"
        for sample in family.samples
        if sample.name == "flyte_mongo_commands_total"
    }


def cpu_ms_per_event(spent: dict[str, float], events: int) -> dict[str, float]:
    """CPU milliseconds per event of each role, and of all flyte dev's processes."""
    per_event = {role: round(s * 1000 / events, 3) for role, s in spent.items()}
    dev_total = sum(s for role, s in spent.items() if role != LOAD_GENERATOR)
    per_event["total (flyte dev)"] = round(dev_total * 1000 / events, 3)
    return per_event


def commands_per_event(
    before: dict[CommandKey, float], after: dict[CommandKey, float], events: int
) -> dict[str, Any]:
    """Mongo commands per event by stage, and by stage, collection and command."""
    sent = {key: n - before.get(key, 0.0) for key, n in after.items()}
    sent = {key: n for key, n in sent.items() if n}
    by_stage: dict[str, float] = {}
    for (stage, _, _), n in sent.items():
        by_stage[stage] = by_stage.get(stage, 0.0) + n
    detail = sorted(sent.items(), key=lambda item: -item[1])
    return {
        "total": round(sum(sent.values()) / events, 3),
        "by_stage": {s: round(n / events, 3) for s, n in sorted(by_stage.items())},
        "by_stage_collection_command": {
            " ".join(key): round(n / events, 3) for key, n in detail
        },
    }


def run(step: str, fn: Callable[[], dict[str, Any]], results: dict[str, Any]) -> None:
    print(f"-- {step} ...", flush=True)
    results[step] = fn()
    print(json.dumps(results[step], indent=2), flush=True)


def with_costs(
    dev: subprocess.Popen[bytes], port: int, fn: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``fn`` and add what its ``events`` cost: each process's CPU and the
    Mongo commands sent meanwhile."""
    commands_before = mongo_commands(port)
    before = cpu_seconds(dev)
    started = time.monotonic()
    result = fn()
    elapsed = time.monotonic() - started
    after = cpu_seconds(dev)
    commands_after = mongo_commands(port)
    spent = {role: after[role] - before.get(role, 0.0) for role in after}
    events = result["events"]
    result["cpu_share_of_one_core"] = {
        role: round(s / elapsed, 2) for role, s in spent.items()
    }
    result["cpu_ms_per_event"] = cpu_ms_per_event(spent, events)
    result["mongo_commands_per_event"] = commands_per_event(
        commands_before, commands_after, events
    )
    return result


def measure_all(
    dev: subprocess.Popen[bytes],
    port: int,
    mongo_port: int,
    args: argparse.Namespace,
    results: dict[str, Any],
) -> None:
    """Register the packs and the flow, then run the measurements asked for."""
    api = Api(port)
    api.post("/v1/packs", {"name": "Slack"})
    api.post("/v1/packs", {"name": "Shell"})
    api.post("/v1/flows", FLOW)
    wanted = set(args.only or "abcd")
    if "a" in wanted:

        def latency() -> dict[str, Any]:
            return measure_latency(port, 50, 1000)

        run("a_latency_at_50_per_s", lambda: with_costs(dev, port, latency), results)
    if "b" in wanted:

        def throughput() -> dict[str, Any]:
            return measure_throughput(port, args.events, posters=8, takers=4)

        run("b_throughput", lambda: with_costs(dev, port, throughput), results)
        rate = measure_insert_rate(mongo_port)
        run("b_raw_insert_one_per_s", lambda: {"rate": rate}, results)
        taken = results["b_throughput"]["end_to_end_events_per_s"]
        results["b_ratio_to_insert_one"] = taken / rate
    if "c" in wanted:
        run("c_flow_scaling", lambda: measure_flow_scaling(mongo_port, 300), results)
    if "d" in wanted:
        run(
            "d_take_scaling",
            lambda: measure_take_scaling(port, mongo_port, 300),
            results,
        )


def main() -> None:
    """Run every measurement against a fresh ``flyte dev`` and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=6000, help="size of the throughput burst"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--only", choices=["a", "b", "c", "d"], action="append", help="run only these"
    )
    args = parser.parse_args()
    port, mongo_port, redis_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        dev = start_dev(Path(tmp), port, mongo_port, redis_port)
        results: dict[str, Any] = {}
        try:
            measure_all(dev, port, mongo_port, args, results)
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=30)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
