"""Two real scheduler processes: only one sends the periodic jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from tests.outages import own_redis
from workers.scheduler import jobs

#: Generous bounds for a loaded machine; the test waits only as long as needed.
START_WITHIN = 60.0
TICKS_WITHIN = 60.0
#: Ticks of ``expire_leases`` to watch once both schedulers run, each this far apart.
TICKS = 3
LEASE_CHECK_EVERY = 1


def sent_at(client: redis.Redis, broker: RedisBroker) -> dict[str, list[float]]:
    """When each job waiting on the housekeeping queue was sent, in seconds, sorted."""
    raw = client.hvals(f"{broker.namespace}:housekeeping.msgs")
    times: dict[str, list[float]] = {}
    for message in map(json.loads, raw):
        times.setdefault(message["actor_name"], []).append(
            message["message_timestamp"] / 1000
        )
    return {name: sorted(stamps) for name, stamps in times.items()}


def sent_since(client: redis.Redis, broker: RedisBroker, job: str, since: float) -> int:
    """How many messages of ``job`` were sent after ``since`` (a ``time.time()``)."""
    return sum(stamp > since for stamp in sent_at(client, broker).get(job, []))


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within:.0f} s: {what}"
        time.sleep(0.1)


@pytest.mark.slow
def test_two_schedulers_send_each_tick_once(
    settings: Settings, broker: RedisBroker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    broker.flush_all()
    env = {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "LOGLEVEL": "info",
        "FLYTE_LEASE_CHECK_INTERVAL_SECONDS": str(LEASE_CHECK_EVERY),
    }
    command = [sys.executable, "-m", "workers.scheduler"]
    logs = [tmp_path / f"scheduler{i}.log" for i in range(2)]
    outs = [log.open("wb") for log in logs]
    schedulers = [
        subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        for out in outs
    ]

    def started() -> bool:
        assert all(p.poll() is None for p in schedulers), "a scheduler exited"
        return all("scheduler started" in log.read_text() for log in logs)

    try:
        # Given two schedulers, both running
        wait_for(started, START_WITHIN, "both schedulers started")
        both_up = time.time()
        # When several ticks of the lease job have passed with both of them up
        wait_for(
            lambda: sent_since(redis_client, broker, "expire_leases", both_up) >= TICKS,
            TICKS_WITHIN,
            f"{TICKS} ticks of expire_leases",
        )
    finally:
        for process in schedulers:
            process.terminate()
            process.wait(timeout=10)
        for out in outs:
            out.close()
    sent = sent_at(redis_client, broker)
    broker.flush_all()
    # Then each tick was sent once. Had both sent, each scheduler's ticks would
    # be offset from the other's by the gap between their start-ups, which makes
    # some gap between messages half the job's interval or less.
    scheduled = replace(settings, lease_check_interval_seconds=LEASE_CHECK_EVERY)
    every = {job_id: seconds for job_id, seconds, _ in jobs(scheduled, broker)}
    for job_id, stamps in sent.items():
        gaps = [later - earlier for earlier, later in pairwise(stamps)]
        assert all(gap > every[job_id] / 2 for gap in gaps), (job_id, stamps)


@pytest.mark.slow
def test_a_redis_outage_gives_the_scheduler_one_warning_and_one_recovery_line(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path) as server:
        env = {
            **os.environ,
            "REDIS_URL": server.url,
            "LOGLEVEL": "info",
            "FLYTE_LEASE_CHECK_INTERVAL_SECONDS": "1",
            "FLYTE_RECOVERY_INTERVAL_SECONDS": "1",
        }
        log = tmp_path / "scheduler.log"
        with log.open("wb") as out:
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "workers.scheduler"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            # Given a scheduler that leads
            wait_for(lambda: "scheduler leads" in log.read_text(), START_WITHIN, "lead")
            # When its Redis hangs for several seconds (a dozen ticks), then resumes
            server.hang()
            time.sleep(4)
            server.resume()
            wait_for(
                lambda: "Redis answers again" in log.read_text(),
                TICKS_WITHIN,
                "the recovery line",
            )
        finally:
            server.resume()
            scheduler.terminate()
            scheduler.wait(timeout=10)
    # Then the outage took one WARNING line and one INFO line, no traceback
    lines = log.read_text().splitlines()
    assert len([line for line in lines if line.startswith("[WARNING]")]) == 1, lines
    assert not [line for line in lines if line.startswith(("[ERROR]", "Traceback"))]
    assert len([line for line in lines if "answers again" in line]) == 1
