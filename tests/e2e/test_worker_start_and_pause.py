"""Real worker processes: paused mid-render, and the first event after a start.

A worker stopped (SIGSTOP) in the middle of a render for longer than the render
deadline still fires the step, since the deadline counts CPU time. A worker that
has just started takes its first event promptly, since it warmed up at boot.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from flyte.config import Settings
from flyte.devserver.processes import WORKER_IDLE_POLL_MS
from flyte.flow import parse_flow
from flyte.pack import Pack
from flyte.runtime import Leases
from flyte.runtime import PackRuntime
from flyte.store import Stores
from flyte.store.events import EventStatus
from templates import TemplateEngine
from tests.servers import WorkerProcesses
from tests.servers import with_database
from workers.broker import build_broker
from workers.queue import DramatiqQueue

#: About half a second of CPU time in the sandbox, whatever the machine's load.
SLOW_INPUT = (
    "{% set ns = namespace(x=0) %}{% for i in range(100000) %}"
    "{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}"
)
#: The render deadline of these workers, and how long the test pauses them.
DEADLINE_MS = 2000
PAUSE_SECONDS = 3.0
#: CPU time the workers spend on an event before the slow render is surely running.
RENDERING_AFTER_CPU_SECONDS = 0.1
#: The suite's generous bound on the first event (bench/coldstart measures 100 ms).
FIRST_EVENT_WITHIN = 1.0
WAIT_SECONDS = 60.0


def flow(input_template: str) -> dict[str, object]:
    return {
        "name": "paused",
        "steps": [
            {
                "id": "run",
                "event": {"packName": "Slack", "name": "Msg"},
                "command": {
                    "packName": "Shell",
                    "name": "Run",
                    "input": input_template,
                },
            }
        ],
    }


def prepare(stores: Stores, input_template: str) -> None:
    stores.packs.register(Pack(id="Slack", name="Slack", last_seen=datetime.now(UTC)))
    stores.flows.add(parse_flow(flow(input_template), TemplateEngine().check_syntax))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT_SECONDS:.0f} s: {what}"
        time.sleep(0.005)


@contextmanager
def running_workers(
    settings: Settings, log: Path, **env: str
) -> Iterator[WorkerProcesses]:
    """One warmed-up worker process (its supervisor too), as the Procfile runs it."""
    uri = with_database(settings.mongo_uri, settings.mongo_database)
    workers = WorkerProcesses(
        {
            **os.environ,
            "FLYTE_MGO_HOST": uri,
            "REDIS_URL": settings.redis_url,
            "LOGLEVEL": "info",
            "dramatiq_worker_timeout": str(WORKER_IDLE_POLL_MS),
            **env,
        },
        log,
        processes=1,
    )
    workers.start()
    try:
        wait_for(lambda: "worker warmed up" in log.read_text(), "the warm-up")
        yield workers
    finally:
        os.killpg(group(workers), signal.SIGCONT)
        workers.stop()


def group(workers: WorkerProcesses) -> int:
    """The process group (and id) of the workers' supervisor."""
    assert workers.process is not None
    return workers.process.pid


def cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by a process and its children."""
    root = psutil.Process(root_pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


@pytest.mark.slow
def test_a_worker_paused_mid_render_longer_than_the_deadline_fires_the_step(
    settings: Settings, stores: Stores, tmp_path: Path
) -> None:
    prepare(stores, SLOW_INPUT)
    broker = build_broker(replace(settings))
    runtime = PackRuntime(stores, DramatiqQueue(broker), Leases(600, 3))
    log = tmp_path / "worker.log"
    with running_workers(
        settings, log, FLYTE_TEMPLATE_TIMEOUT_MS=str(DEADLINE_MS)
    ) as workers:
        # Given a worker rendering a template that takes about half a second of CPU
        idle = cpu_seconds(group(workers))
        event = runtime.post_event("Slack", lambda: {"event": "Msg", "payload": {}})
        wait_for(
            lambda: cpu_seconds(group(workers)) - idle > RENDERING_AFTER_CPU_SECONDS,
            "the render to start",
        )
        # When the worker is stopped mid-render for longer than its deadline
        os.killpg(group(workers), signal.SIGSTOP)
        assert stores.events.get(event.id).status is EventStatus.PENDING
        time.sleep(PAUSE_SECONDS)
        os.killpg(group(workers), signal.SIGCONT)
        wait_for(
            lambda: stores.events.get(event.id).status is not EventStatus.PENDING,
            "the event to be processed",
        )
    broker.close()
    # Then the step fired, with the whole render
    [outcome] = stores.events.get(event.id).outcomes
    assert [s.status for s in outcome.steps] == ["fired"], outcome.steps
    [action] = stores.db["action"].find({"trigger.id": event.id})
    assert action["input"] == str(sum(range(100000)))


@pytest.mark.slow
def test_the_first_event_after_a_worker_start_is_takeable_promptly(
    settings: Settings, stores: Stores, tmp_path: Path
) -> None:
    prepare(stores, "{{ Event.Payload.n }}")
    broker = build_broker(replace(settings))
    runtime = PackRuntime(stores, DramatiqQueue(broker), Leases(600, 3))
    with running_workers(settings, tmp_path / "worker.log"):
        # Given a worker that has just started (and warmed up)
        # When the first event arrives
        posted = time.monotonic()
        runtime.post_event("Slack", lambda: {"event": "Msg", "payload": {"n": 1}})
        wait_for(
            lambda: stores.db["action"].count_documents({}) == 1, "the first action"
        )
        took = time.monotonic() - posted
    broker.close()
    # Then its action is there within the bound
    assert took < FIRST_EVENT_WITHIN, f"{took * 1000:.0f} ms"
