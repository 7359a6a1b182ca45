"""One active scheduler, on the real Redis: no job is sent twice, none is lost."""

from __future__ import annotations

import logging
import os
import socket
import time as clock_time
import uuid
from datetime import datetime
from datetime import time
from pathlib import Path

import pytest
import redis

from tests.conftest import FakeClock
from tests.outages import own_redis
from workers.leadership import DailyJob
from workers.leadership import Leadership
from workers.leadership import read_leader


def test_two_schedulers_never_both_send_a_job(redis_client: redis.Redis) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    first, second = Leadership(redis_client, key), Leadership(redis_client, key)
    sent: list[str] = []
    first_job = first.guard(lambda: sent.append("first"))
    second_job = second.guard(lambda: sent.append("second"))
    for _ in range(20):
        first.renew()
        second.renew()
        first_job()
        second_job()
    assert sent == ["first"] * 20


def test_the_lease_names_the_leading_scheduler(redis_client: redis.Redis) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    assert read_leader(redis_client, key) is None
    leader, standby = Leadership(redis_client, key), Leadership(redis_client, key)
    assert leader.renew() and not standby.renew()
    host, pid = (read_leader(redis_client, key) or "").split(":")
    assert host == socket.gethostname() and pid == str(os.getpid())
    redis_client.delete(key)


def test_a_standby_takes_over_when_the_leader_stops(redis_client: redis.Redis) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    leader = Leadership(redis_client, key, lease_ms=300)
    standby = Leadership(redis_client, key, lease_ms=300)
    assert leader.renew() and not standby.renew()
    # The leader crashes: it renews no more.
    clock_time.sleep(0.4)
    assert standby.renew()
    assert not leader.renew()


def test_a_paused_leader_whose_lease_ran_out_sends_nothing(
    redis_client: redis.Redis,
) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    leader = Leadership(redis_client, key, lease_ms=300)
    standby = Leadership(redis_client, key, lease_ms=300)
    sent: list[str] = []
    leader_job = leader.guard(lambda: sent.append("leader"))
    standby_job = standby.guard(lambda: sent.append("standby"))
    assert leader.renew()
    leader_job()
    # The leader is paused past its lease; meanwhile the standby takes over.
    clock_time.sleep(0.4)
    assert standby.renew()
    # The leader wakes up and its job runs before its next renewal.
    leader_job()
    standby_job()
    assert sent == ["leader", "standby"]
    assert not leader.renew()


def test_a_leader_keeps_its_lease_across_renewals(redis_client: redis.Redis) -> None:
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    leader = Leadership(redis_client, key, lease_ms=2000)
    standby = Leadership(redis_client, key, lease_ms=2000)
    for _ in range(5):
        assert leader.renew() and not standby.renew()
        clock_time.sleep(0.1)
    assert leader.leading and not standby.leading


def test_a_daily_job_runs_once_a_day_whatever_the_number_of_schedulers(
    redis_client: redis.Redis,
) -> None:
    name = f"test-{uuid.uuid4().hex}"
    clock = FakeClock(datetime(2026, 3, 1, 22, 59).astimezone())  # local time
    sent: list[datetime] = []
    jobs = [
        DailyJob(redis_client, name, time(23, 0), lambda: sent.append(clock()), clock)
        for _ in range(2)
    ]
    for _ in range(3):
        for job in jobs:
            job.tick()
    assert sent == []
    clock.advance(minutes=1)
    for _ in range(3):
        for job in jobs:
            job.tick()
    assert len(sent) == 1
    clock.advance(hours=24)
    for job in jobs:
        job.tick()
    assert len(sent) == 2


def test_a_scheduler_started_after_the_time_still_runs_that_days_job(
    redis_client: redis.Redis,
) -> None:
    name = f"test-{uuid.uuid4().hex}"
    clock = FakeClock(datetime(2026, 3, 1, 23, 30).astimezone())  # local time
    sent: list[bool] = []
    assert DailyJob(
        redis_client, name, time(23, 0), lambda: sent.append(True), clock
    ).tick()
    assert sent == [True]


def test_failed_sends_are_one_warning_and_their_end_one_info(
    redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a leader whose broker refuses the first three sends
    key = f"flyte:test:leader:{uuid.uuid4().hex}"
    leader = Leadership(redis_client, key)
    outcomes = [redis.ConnectionError("refused")] * 3 + [None]

    def send() -> None:
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure

    job = leader.guard(send)
    assert leader.renew()
    # When the job ticks four times
    with caplog.at_level(logging.INFO, logger="workers.leadership"):
        for _ in range(4):
            job()
    # Then the outage gave one WARNING and one INFO, and nothing was raised
    levels = [r.levelname for r in caplog.records if r.name == "workers.leadership"]
    assert levels == ["WARNING", "INFO"]


def test_a_send_that_fails_with_redis_gives_only_the_lease_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with own_redis(tmp_path) as server:
        # Given a leader whose Redis is also its broker
        client = redis.Redis.from_url(server.url, socket_timeout=0.5)
        leader = Leadership(client, f"flyte:test:leader:{uuid.uuid4().hex}")
        job = leader.guard(lambda: client.rpush("flyte:test:jobs", "tick"))
        assert leader.renew()
        # When Redis stops, a job's send fails, then the lease renewals fail
        server.stop()
        with caplog.at_level(logging.INFO, logger="workers.leadership"):
            job()
            for _ in range(3):
                leader.renew()
    # Then the whole outage is one WARNING, about the lease
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "workers.leadership" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1, caplog.text
    assert "lease" in warnings[0]
