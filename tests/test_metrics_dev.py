"""End to end: a real ``flyte dev`` with two web and two worker processes; each
web process's /metrics shows the sum of every process's counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flyte.devserver.embedded import free_port
from tests.builders import ECHO_FLOW
from tests.builders import make_pack_body
from tests.e2e.devserver import STOP_WITHIN
from tests.e2e.devserver import consecutive_free_ports
from tests.e2e.devserver import wait_healthy
from tests.test_metrics import parse
from tests.test_metrics import value

#: Events posted through each of the two web processes.
EVENTS_PER_WEB = (3, 2)


@dataclass(frozen=True)
class RunningDev:
    """A started ``flyte dev``: its two web roots and its data folder."""

    roots: tuple[str, str]
    data_dir: Path


#: Start-ups tried before the test fails: a port picked free may be taken by
#: another test process before flyte dev binds it.
START_ATTEMPTS = 3


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[RunningDev]:
    """``flyte dev --web 2 --worker-processes 2``: its web roots and data folder."""
    for attempt in range(1, START_ATTEMPTS + 1):
        folder = tmp_path / f"start-{attempt}"
        folder.mkdir()
        process, roots = start_two_web_dev(folder)
        try:
            for root in roots:
                wait_healthy(root, process)
        except AssertionError:
            # wait_healthy asserts that flyte dev is still running.
            if attempt == START_ATTEMPTS:
                output = (folder / "dev.out").read_text(errors="replace")
                pytest.fail(f"flyte dev exited during start-up:\n{output[-3000:]}")
            continue
        except BaseException:
            stop(process)
            raise
        try:
            yield RunningDev(roots, folder)
        finally:
            stop(process)
        return


def start_two_web_dev(
    data_dir: Path,
) -> tuple[subprocess.Popen[bytes], tuple[str, str]]:
    """Start ``flyte dev --web 2 --worker-processes 2`` on fresh ports."""
    port = consecutive_free_ports()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLYTE_MGO_HOST", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(FLYTE_DATA_DIR=str(data_dir), FLYTE_PORT=str(port))
    flyte = Path(sys.executable).parent / "flyte"
    command = [str(flyte), "dev", "--web", "2", "--worker-processes", "2"]
    command += ["--mongo-port", str(free_port()), "--redis-port", str(free_port())]
    with (data_dir / "dev.out").open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop flyte dev as Ctrl-C does, unless it has already exited."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_WITHIN)


@pytest.mark.slow
def test_every_web_process_reports_the_sum_of_all_processes(
    dev: RunningDev,
) -> None:
    first, second = (httpx.Client(base_url=root, timeout=10) for root in dev.roots)
    # Given the echo flow and its packs
    assert first.post("/v1/packs", json=make_pack_body()).status_code == 201
    shell = make_pack_body(name="Shell", commands=[{"name": "Shell"}], events=[])
    assert first.post("/v1/packs", json=shell).status_code == 201
    assert first.post("/v1/flows", json=ECHO_FLOW).status_code == 201
    # When events arrive through both web processes, and Shell takes every action
    message = {"event": "ReceivedMessage", "payload": {"text": "echo hi"}}
    for api, count in zip((first, second), EVENTS_PER_WEB, strict=True):
        for _ in range(count):
            assert api.post("/v1/packs/Slack/events", json=message).status_code == 202
    total = sum(EVENTS_PER_WEB)
    taken = _take_all(first, second, total)
    assert taken == total
    # Then each web process's /metrics counts what all processes did: events
    # from both web processes, steps and messages from both worker processes
    for api in (first, second):
        samples = parse(api.get("/metrics").text)
        assert value(samples, "flyte_events_accepted_total", kind="event") == total
        assert value(samples, "flyte_steps_total", outcome="fired") == total
        created = {"from_state": "none", "to_state": "NEW"}
        assert value(samples, "flyte_action_transitions_total", **created) == total
        assert value(samples, "flyte_takes_total", result="action") == total
        assert value(samples, "flyte_event_to_takeable_seconds_count") == total
        success = {"actor": "handle_event", "outcome": "success"}
        assert value(samples, "flyte_worker_messages_total", **success) == total
        assert value(samples, "flyte_queue_inspection_up") == 1
        assert (
            "flyte_queue_messages",
            frozenset({("queue", "events"), ("state", "ready")}),
        ) in samples
    # And the counts come from files of several processes
    files = list((dev.data_dir / "metrics").glob("*.db"))
    assert len({f.stem.rsplit("_", 1)[-1] for f in files}) >= 3
    first.close()
    second.close()


def _take_all(first: httpx.Client, second: httpx.Client, wanted: int) -> int:
    """Take actions through both web processes until ``wanted`` are taken."""
    taken = 0
    deadline = time.monotonic() + 30
    apis = (first, second)
    while taken < wanted and time.monotonic() < deadline:
        response = apis[taken % 2].post("/v1/packs/Shell/actions/take")
        if response.status_code == 200:
            taken += 1
        else:
            time.sleep(0.05)
    return taken
