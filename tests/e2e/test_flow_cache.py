"""End to end: every worker process sees a re-posted or deleted flow on the next event.

Workers cache which flows an event matches; the API renews a stamp in Redis on
each flow write. Under ``flyte dev --workers 2``, each worker in turn is made to
handle an event (the other one stopped meanwhile), so both have cached the
flow before it changes, and both must match the next event to the new version.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import start_dev
from tests.e2e.devserver import wait_healthy

WORKERS = 2
#: Re-posts of the flow after the first version; each worker handles an event
#: after each one.
REPOSTS = 3
WITHIN = 15.0


def flow(value: str) -> dict[str, Any]:
    """The flow whose Msg events make a Shell Run action with input ``value``."""
    command = {"packName": "Shell", "name": "Run", "input": value}
    step = {"id": "run", "event": {"packName": "Slack", "name": "Msg"}}
    return {"name": "cached", "steps": [{**step, "command": command}]}


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """The first true value of ``condition()``, polled for up to WITHIN seconds."""
    deadline = time.monotonic() + WITHIN
    while not (value := condition()):
        if time.monotonic() >= deadline:
            pytest.fail(f"not within {WITHIN:.0f} s: {what}")
        time.sleep(0.02)
    return value


class Dev:
    """A running ``flyte dev --workers 2`` and its API."""

    def __init__(self, port: int, pid: int, log: Path) -> None:
        self.api = f"http://127.0.0.1:{port}/v1"
        self._pid = pid
        self._log = log

    def workers(self) -> list[psutil.Process]:
        """The worker processes: Dramatiq's, under each supervisor's."""
        tree = psutil.Process(self._pid).children(recursive=True)
        dramatiq = [p for p in tree if p.cmdline()[1:3] == ["-m", "dramatiq"]]
        return [p for p in dramatiq if not p.children()]

    def wait_warmed_up(self) -> None:
        """Wait until every worker process has connected and warmed up."""
        wait_for(
            lambda: self._log.read_text().count("worker warmed up") >= WORKERS,
            "both workers warmed up",
        )

    def post(self, path: str, body: Any, status: int) -> Any:
        """POST ``body`` to the API, expecting ``status``; the answer's JSON."""
        resp = httpx.post(f"{self.api}{path}", json=body)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def post_event(self) -> str:
        """Post a Msg event; its id."""
        body = {"event": "Msg", "payload": {}}
        event_id: str = self.post("/packs/Slack/events", body, 202)["id"]
        return event_id

    def take(self) -> dict[str, Any] | None:
        """Take a Shell Run action, if there is one."""
        resp = httpx.post(
            f"{self.api}/packs/Shell/actions/take", params={"commandName": "Run"}
        )
        assert resp.status_code in (200, 204), resp.text
        return resp.json() if resp.status_code == 200 else None

    def processed(self, event_id: str) -> dict[str, Any] | None:
        """The event, once a worker has dealt with it."""
        body: dict[str, Any] = httpx.get(f"{self.api}/events/{event_id}").json()
        return body if body["status"] != "pending" else None


@contextmanager
def running_dev(tmp_path: Path) -> Iterator[Dev]:
    """``flyte dev`` with two worker supervisors of one process each, healthy."""
    port = free_port()
    options = ["--workers", str(WORKERS), "--worker-threads", "2"]
    process = start_dev(tmp_path, port, options=options)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        dev = Dev(port, process.pid, tmp_path / "dev.out")
        dev.wait_warmed_up()
        yield dev
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def only(worker: psutil.Process, dev: Dev) -> Iterator[None]:
    """Only ``worker`` takes events meanwhile: the others are stopped (SIGSTOP)."""
    stopped = [other for other in dev.workers() if other.pid != worker.pid]
    for process in stopped:
        process.suspend()
    try:
        yield
    finally:
        for process in stopped:
            process.resume()


def action_input_from_each_worker(dev: Dev) -> list[Any]:
    """The input of the action an event makes on each worker in turn."""
    inputs = []
    for worker in dev.workers():
        with only(worker, dev):
            dev.post_event()
            action = wait_for(dev.take, f"an action from worker {worker.pid}")
        inputs.append(action["input"])
    return inputs


@pytest.mark.slow
def test_each_worker_sees_a_reposted_and_a_deleted_flow_on_the_next_event(
    tmp_path: Path,
) -> None:
    with running_dev(tmp_path) as dev:
        assert len(dev.workers()) == WORKERS
        dev.post("/packs", {"name": "Slack", "events": [{"name": "Msg"}]}, 201)
        shell = {"name": "Shell", "commands": [{"name": "Run", "events": ["Output"]}]}
        dev.post("/packs", shell, 201)
        # Given each worker has matched an event to the flow's first version
        dev.post("/flows", flow("v0"), 201)
        assert action_input_from_each_worker(dev) == ["v0"] * WORKERS
        for version in range(1, REPOSTS + 1):
            # When the flow is re-posted with another input
            dev.post("/flows", flow(f"v{version}"), 201)
            # Then each worker's very next event makes the new version's action
            assert action_input_from_each_worker(dev) == [f"v{version}"] * WORKERS
        # When the flow is deleted
        assert httpx.delete(f"{dev.api}/flows/cached").status_code == 204
        # Then each worker's next event matches no flow and makes no action
        for worker in dev.workers():
            with only(worker, dev):
                event_id = dev.post_event()
                event = wait_for(functools.partial(dev.processed, event_id), "event")
            assert event["status"] == "processed"
            assert event["flows"] == []
            assert dev.take() is None
