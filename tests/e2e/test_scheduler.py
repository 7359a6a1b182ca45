"""Two real scheduler processes: only one sends the periodic jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings

#: Long enough for two ticks of the 5 s job after each process has started.
RUN_SECONDS = 12.5


def queued_jobs(client: redis.Redis, broker: RedisBroker) -> Counter[str]:
    """How many messages of each actor wait on the housekeeping queue."""
    raw = client.hvals(f"{broker.namespace}:housekeeping.msgs")
    return Counter(json.loads(message)["actor_name"] for message in raw)


@pytest.mark.slow
def test_two_schedulers_send_each_tick_once(
    settings: Settings, broker: RedisBroker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    broker.flush_all()
    env = {**os.environ, "REDIS_URL": settings.redis_url, "LOGLEVEL": "warning"}
    command = [sys.executable, "-m", "workers.scheduler"]
    logs = [(tmp_path / f"scheduler{i}.log").open("wb") for i in range(2)]
    schedulers = [
        subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        time.sleep(RUN_SECONDS)
    finally:
        for process in schedulers:
            process.terminate()
            process.wait(timeout=10)
        for log in logs:
            log.close()
    jobs = queued_jobs(redis_client, broker)
    broker.flush_all()
    # expire_leases ticks every 5 s: two runs each in 12.5 s, so 4 if both sent
    # (one, if a slow start-up leaves the leader a single tick).
    assert jobs["expire_leases"] in (1, 2), jobs
    assert jobs["recover_events"] == 0, jobs
