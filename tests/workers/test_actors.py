"""The actors' wiring: declared on a given broker, reached by their address.

Importing ``workers`` has no side effect: only the entry point sets things up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.event import Event
from flyte.event import PackRef
from flyte.housekeeping import Housekeeper
from flyte.store import Stores
from flyte.store.events import EventStatus
from tests.conftest import FakeClock
from tests.conftest import drain
from workers import messages
from workers.messages import ActorAddress
from workers.scheduler import jobs

ROOT = Path(__file__).resolve().parents[2]
#: Every module of ``workers`` but its entry point.
LIBRARY_MODULES = sorted(
    f"workers.{path.stem}"
    for path in (ROOT / "workers").glob("*.py")
    if path.stem not in ("__init__", "main")
)
#: Imports them all, then reports what a side effect would have changed.
IMPORT_ALL = f"""
import logging, dramatiq.broker
import {", ".join(["workers", *LIBRARY_MODULES])}
assert dramatiq.broker.global_broker is None, "a broker was installed"
assert not logging.getLogger().handlers, "logging was configured"
"""


def test_every_address_senders_use_is_a_declared_actor_on_its_queue(
    broker: RedisBroker,
) -> None:
    addresses = [
        value for value in vars(messages).values() if isinstance(value, ActorAddress)
    ]
    assert set(broker.get_declared_actors()) == {a.actor_name for a in addresses}
    for address in addresses:
        assert broker.get_actor(address.actor_name).queue_name == address.queue_name


def test_importing_the_workers_modules_reads_no_environment_and_sets_nothing_up() -> (
    None
):
    # A Redis URL nothing listens on, and a bad log level: reading either at
    # import would fail or connect.
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "LOGLEVEL": "nonsense"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_job_the_scheduler_sends_runs_on_a_worker(
    stores: Stores,
    housekeeper: Housekeeper,
    clock: FakeClock,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    # Given an event stored long ago whose message never reached Redis
    stores.events.add(
        Event("lost", "Msg", PackRef("Slack", "Slack"), clock(), clock()), clock()
    )
    clock.advance(seconds=61)
    # When the scheduler sends the recovery job
    scheduled = jobs(Settings(), broker)
    [send] = [send for job_id, _, send in scheduled if job_id == "recover_events"]
    send()
    drain(broker, worker)  # the job, which queues the event
    drain(broker, worker)  # the event
    # Then a worker ran it, and the event it queued again was processed
    assert stores.events.get("lost").status is EventStatus.PROCESSED
