"""Scale-out: 2 web, 2 worker and 2 scheduler processes on one store and one broker.

Under load (events posted from several threads and actions taken, spread over
both web ports), one process of each kind is killed with SIGKILL. Events keep
flowing, every stored event makes exactly one action, no action is handed out
twice, takes are served by both web processes, and one scheduler leads at a time.
Runs on each broker (Redis, then RabbitMQ when one answers).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.store import Stores
from tests.e2e.devserver import consecutive_free_ports
from tests.e2e.devserver import start_dev
from tests.servers import WorkerProcesses
from tests.servers import with_database

FLOW = {
    "name": "scale",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "command": {
                "packName": "Shell",
                "name": "Run",
                "input": "{{ Event.Payload.n }}",
            },
        }
    ],
}
POSTERS = 3
EVENTS_PER_POSTER = 70
TAKERS = 2
#: Posted after every kill, to show that events still flow.
EVENTS_AFTER = 30
#: Accepted events after which the web, worker and leading scheduler are killed.
KILL_WEB_AT, KILL_WORKER_AT, KILL_SCHEDULER_AT = 50, 100, 150
START_WITHIN = 30.0
#: Takes each web port must have served.
MIN_TAKES_PER_PORT = 5
#: Generous for a loaded machine: the test waits only as long as it must.
SETTLE_WITHIN = 60.0
_LEADERSHIP_LINE = re.compile(
    r"\] (\S+) workers\.leadership: scheduler (leads|stands by)"
)


class Process:
    """One Flyte process in a session of its own, its output in a log file."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], logs: Path
    ) -> None:
        self.name = name
        self._command = command
        self._env = env
        self.log = logs / f"{name}.log"
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                command,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.killed_at: float | None = None

    def kill(self) -> None:
        """SIGKILL the process and its children, as a crash of its host would."""
        self.killed_at = time.time()
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def restarted(self) -> Process:
        """The same process started again, its output added to the same log."""
        return Process(self.name, self._command, self._env, self.log.parent)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Cluster:
    """The processes and the web ports of one scale-out run."""

    ports: list[int]
    webs: list[Process]
    workers: list[WorkerProcesses]
    schedulers: list[Process]
    alive_ports: list[int] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every process still running."""
        for process in [*self.webs, *self.schedulers]:
            process.stop()
        for workers in self.workers:
            workers.stop()


@dataclass
class Load:
    """What the load threads saw: accepted event ids, and takes by web port."""

    accepted: list[str] = field(default_factory=list)
    taken: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_taking: threading.Event = field(default_factory=threading.Event)


def cluster_env(settings: Settings, broker_url: str, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FLYTE_MGO_HOST": with_database(settings.mongo_uri, settings.mongo_database),
        "REDIS_URL": redis_url,
        "FLYTE_BIND": "127.0.0.1",
        "LOGLEVEL": "info",
        # Repair quickly, so a lost message is re-queued within seconds (but not
        # so quickly that a backlog is re-queued over and over).
        "FLYTE_RECOVERY_INTERVAL_SECONDS": "1",
        "FLYTE_EVENT_RECOVERY_SECONDS": "6",
        "FLYTE_EVENT_MAX_RECOVERIES": "100",
    }
    if broker_url != settings.redis_url:
        env["FLYTE_BROKER_URL"] = broker_url
    return env


@pytest.fixture
def cluster(
    settings: Settings, broker_url: str, killable_redis_url: str, tmp_path: Path
) -> Iterator[Cluster]:
    # A worker is killed: with Redis as the broker, on a Redis of this test's own.
    env = cluster_env(settings, broker_url, killable_redis_url)
    ports = [free_port(), free_port()]
    webs = [
        Process(
            f"web{i}",
            [sys.executable, "-m", "api"],
            {**env, "FLYTE_PORT": str(p)},
            tmp_path,
        )
        for i, p in enumerate(ports, 1)
    ]
    workers = [
        WorkerProcesses(env, tmp_path / f"worker{i}.log", processes=1) for i in (1, 2)
    ]
    for worker in workers:
        worker.start()
    schedulers = [
        Process(
            f"scheduler{i}", [sys.executable, "-m", "workers.scheduler"], env, tmp_path
        )
        for i in (1, 2)
    ]
    running = Cluster(ports, webs, workers, schedulers, alive_ports=list(ports))
    try:
        for port in ports:
            wait_healthy(port)
        wait_for(lambda: leader(running) is not None, START_WITHIN, "a leader")
        yield running
    finally:
        running.stop()


def wait_healthy(port: int) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, START_WITHIN, f"/health on port {port}")


def wait_for(
    condition: Callable[[], bool], within: float, what: str | Callable[[], str]
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            pytest.fail(f"not within {within:.0f} s: {said}")
        time.sleep(0.1)


def leadership(process: Process) -> list[tuple[float, bool]]:
    """(time, leads?) of each change of ``process``'s leadership, from its log."""
    changes = []
    for match in _LEADERSHIP_LINE.finditer(process.log.read_text(errors="replace")):
        stamp = datetime.fromisoformat(match.group(1)).timestamp()
        changes.append((stamp, match.group(2) == "leads"))
    return changes


def leader(cluster: Cluster) -> Process | None:
    """The scheduler whose log says it leads now, if any."""
    for process in cluster.schedulers:
        changes = leadership(process)
        if process.killed_at is None and changes and changes[-1][1]:
            return process
    return None


def lead_intervals(process: Process) -> list[tuple[float, float]]:
    """When ``process`` led: (from, until), until its stand-down or death."""
    intervals, since = [], None
    for stamp, leads in leadership(process):
        if leads and since is None:
            since = stamp
        elif not leads and since is not None:
            intervals.append((since, stamp))
            since = None
    if since is not None:
        intervals.append((since, process.killed_at or time.time()))
    return intervals


def post_events(cluster: Cluster, load: Load, poster: int, count: int) -> None:
    """Post ``count`` events, alternating web ports; move on when one is gone."""
    with httpx.Client(timeout=10) as client:
        for n in range(count):
            body = {"event": "Msg", "payload": {"n": f"{poster}-{n}"}}
            for attempt in range(40):
                port = cluster.alive_ports[(n + attempt) % len(cluster.alive_ports)]
                url = f"http://127.0.0.1:{port}/v1/packs/Slack/events"
                try:
                    answer = client.post(url, json=body)
                except httpx.TransportError:
                    continue  # that web process died: a balancer would move on
                if answer.status_code == 202:
                    with load.lock:
                        load.accepted.append(answer.headers["Location"].split("/")[-1])
                    break
                assert answer.status_code == 503, answer.text
                time.sleep(0.1)
            else:
                pytest.fail(f"event {poster}-{n} was never accepted")


def take_actions(cluster: Cluster, load: Load, taker: int) -> None:
    """Take Shell's actions from both web ports in turn until told to stop."""
    with httpx.Client(timeout=10) as client:
        turn = taker
        while not load.stop_taking.is_set():
            turn += 1
            port = cluster.alive_ports[turn % len(cluster.alive_ports)]
            url = f"http://127.0.0.1:{port}/v1/packs/Shell/actions/take"
            try:
                answer = client.post(url, params={"commandName": "Run"})
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                href = answer.json()["links"][0]["href"]
                with load.lock:
                    load.taken.append((port, href.split("/")[-2]))
            else:
                time.sleep(0.02)


def prepare(port: int) -> None:
    api = f"http://127.0.0.1:{port}/v1"
    for pack in (
        {"name": "Slack", "events": [{"name": "Msg"}]},
        {"name": "Shell", "commands": [{"name": "Run", "events": ["Output"]}]},
    ):
        assert httpx.post(f"{api}/packs", json=pack).status_code == 201
    assert httpx.post(f"{api}/flows", json=FLOW).status_code == 201


def kill_one_of_each(cluster: Cluster, load: Load) -> None:
    """Kill a web, a worker and the leading scheduler as the load passes each mark."""

    def accepted_reach(mark: int) -> None:
        wait_for(lambda: len(load.accepted) >= mark, SETTLE_WITHIN, f"{mark} events")

    accepted_reach(KILL_WEB_AT)
    cluster.alive_ports.remove(cluster.ports[0])
    cluster.webs[0].kill()
    accepted_reach(KILL_WORKER_AT)
    cluster.workers[0].kill()
    # The dead web process comes back, as its supervisor would restart it
    cluster.webs[0] = cluster.webs[0].restarted()
    wait_healthy(cluster.ports[0])
    cluster.alive_ports.append(cluster.ports[0])
    accepted_reach(KILL_SCHEDULER_AT)
    leading = leader(cluster)
    assert leading is not None, "no scheduler leads"
    leading.kill()


def run_load(cluster: Cluster, load: Load) -> list[threading.Thread]:
    """Post every event (a process of each kind killed meanwhile); the takers."""
    posters = [
        threading.Thread(target=post_events, args=(cluster, load, i, EVENTS_PER_POSTER))
        for i in range(POSTERS)
    ]
    takers = [
        threading.Thread(target=take_actions, args=(cluster, load, i), daemon=True)
        for i in range(TAKERS)
    ]
    for thread in [*posters, *takers]:
        thread.start()
    kill_one_of_each(cluster, load)
    for thread in posters:
        thread.join()
    # Events still flow once a process of each kind is gone
    post_events(cluster, load, POSTERS, EVENTS_AFTER)
    return takers


def settled(stores: Stores, load: Load) -> bool:
    """Every stored event processed, and every action taken."""
    events = stores.db["event"].count_documents({})
    processed = stores.db["event"].count_documents({"status": "processed"})
    waiting = stores.db["action"].count_documents({"state.value": "NEW"})
    return processed == events and waiting == 0


def progress(stores: Stores, load: Load) -> str:
    """What is handled so far, for the message of a run that did not settle."""
    events = Counter(e["status"] for e in stores.db["event"].find({}, {"status": 1}))
    actions = stores.db["action"].count_documents({})
    return f"events {dict(events)}, {actions} actions, {len(load.taken)} taken"


@pytest.mark.slow
def test_two_of_each_process_survive_losing_any_one_under_load(
    cluster: Cluster, stores: Stores
) -> None:
    # Given 2 web, 2 worker and 2 scheduler processes, and a flow
    prepare(cluster.ports[1])
    load = Load()
    # When events are posted and actions taken on both web ports, while a web,
    # a worker and the leading scheduler are killed one after the other
    takers = run_load(cluster, load)
    try:
        wait_for(
            lambda: settled(stores, load), SETTLE_WITHIN, lambda: progress(stores, load)
        )
    finally:
        load.stop_taking.set()
        for taker in takers:
            taker.join(timeout=15)
    # Then nothing accepted was lost, and nothing stored acted twice
    expected = POSTERS * EVENTS_PER_POSTER + EVENTS_AFTER
    assert len(load.accepted) == expected
    events = {e["_id"] for e in stores.db["event"].find({}, {"_id": 1})}
    assert set(load.accepted) <= events
    triggers = Counter(
        a["trigger"]["id"] for a in stores.db["action"].find({}, {"trigger": 1})
    )
    assert set(triggers) == events, "a stored event made no action"
    assert max(triggers.values()) == 1, "an event made two actions"
    # ... no action was handed out twice, and both web processes served takes.
    # A take the killed web process had answered, but not sent, is lost with it:
    # its action stays PENDING until its lease expires and it is handed out again.
    taken = [action for _, action in load.taken]
    assert len(taken) == len(set(taken))
    unseen = stores.db["action"].find({"_id": {"$nin": taken}}, {"state": 1})
    assert [a["state"]["value"] for a in unseen] in (
        ["PENDING"] * lost for lost in range(TAKERS + 1)
    )
    by_port = Counter(port for port, _ in load.taken)
    # (The killed one was down, then starting, for a while: a share of several.)
    assert all(by_port[port] >= MIN_TAKES_PER_PORT for port in cluster.ports), by_port
    # ... and one scheduler led at a time, the survivor taking over
    wait_for(lambda: leader(cluster) is not None, START_WITHIN, "a new leader")
    first, second = (lead_intervals(s) for s in cluster.schedulers)
    for start, end in first:
        for other_start, other_end in second:
            assert end <= other_start or other_end <= start, (first, second)
    survivor = next(s for s in cluster.schedulers if s.killed_at is None)
    assert lead_intervals(survivor)[-1][0] > max(
        s.killed_at or 0 for s in cluster.schedulers
    )


@pytest.mark.slow
def test_flyte_dev_runs_two_web_and_two_worker_processes(tmp_path: Path) -> None:
    # Given flyte dev --web 2 --workers 2
    port = consecutive_free_ports()
    dev = start_dev(tmp_path, port, options=["--web", "2", "--workers", "2"])
    try:
        for each in (port, port + 1):
            wait_healthy(each)
        # When a flow is posted to the first API and an event to the second
        prepare(port)
        body = {"event": "Msg", "payload": {"n": "1"}}
        url = f"http://127.0.0.1:{port + 1}/v1/packs/Slack/events"
        assert httpx.post(url, json=body).status_code == 202
        # Then the first API hands out its action
        take = f"http://127.0.0.1:{port}/v1/packs/Shell/actions/take"

        def taken() -> bool:
            return httpx.post(take, params={"commandName": "Run"}).status_code == 200

        wait_for(taken, START_WITHIN, "the action taken")
    finally:
        dev.terminate()
        dev.wait(timeout=20)
    out = (tmp_path / "dev.out").read_text()
    assert f"  API 2       http://127.0.0.1:{port + 1}/v1" in out
    for name in ("web.1", "web.2", "worker.1", "worker.2", "scheduler"):
        assert f"{name} started" in out, name
