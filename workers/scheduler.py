"""``python -m workers.scheduler``: the periodic process (Procfile ``scheduler``).

Each periodic job is a Dramatiq message, so the workers do the work and this
process only keeps time. Several schedulers may run; only the one holding the
Redis lease sends jobs (see ``workers.leadership``). The jobs are idempotent, so
a tick sent twice during a hand-over is harmless.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import time
from types import FrameType

import dramatiq
import redis
from apscheduler.schedulers.blocking import BlockingScheduler

from flyte.clock import utcnow
from flyte.config import Settings
from flyte.fast_redis import fail_fast_client
from flyte.logging import configure_logging
from workers.broker import build_broker
from workers.leadership import RENEW_EVERY_SECONDS
from workers.leadership import DailyJob
from workers.leadership import Leadership
from workers.messages import DELETE_DEAD_PACKS
from workers.messages import EXPIRE_LEASES
from workers.messages import PURGE_EXPIRED
from workers.messages import RECOVER_EVENTS
from workers.messages import ActorAddress

logger = logging.getLogger("workers.scheduler")

#: Seconds between runs of the purge job.
PURGE_EXPIRED_EVERY = 600
#: Daily jobs check whether they are due this often.
DAILY_CHECK_EVERY = 60
#: A lease renewal waits at most this long for Redis: it renews every second,
#: and its lease lasts 4 s, so a slow answer must not hold up the next renewals.
LEASE_CALL_TIMEOUT_SECONDS = 1.0


def sender(broker: dramatiq.Broker, address: ActorAddress) -> Callable[[], object]:
    """A function that sends one message to the repair actor at ``address``."""
    return lambda: broker.enqueue(address.message())


def jobs(
    settings: Settings, broker: dramatiq.Broker
) -> list[tuple[str, float, Callable[[], object]]]:
    """(job id, interval in seconds, what to send) for every periodic job."""
    return [
        (
            "recover_events",
            settings.recovery_interval_seconds,
            sender(broker, RECOVER_EVENTS),
        ),
        (
            "expire_leases",
            settings.lease_check_interval_seconds,
            sender(broker, EXPIRE_LEASES),
        ),
        ("purge_expired", PURGE_EXPIRED_EVERY, sender(broker, PURGE_EXPIRED)),
    ]


def build_scheduler(
    settings: Settings, client: redis.Redis, broker: dramatiq.Broker
) -> BlockingScheduler:
    """A scheduler with every job registered, each guarded by the leadership."""
    scheduler = BlockingScheduler(timezone="UTC")
    leadership = Leadership(client)

    def every(job_id: str, seconds: float, body: Callable[[], object]) -> None:
        # single_flight skips a tick quietly while the last one still waits on a
        # hung Redis; APScheduler would log a WARNING for each (max_instances).
        scheduler.add_job(
            single_flight(job_id, body),
            "interval",
            seconds=seconds,
            id=job_id,
            coalesce=True,
            max_instances=2,
        )

    every("leadership", RENEW_EVERY_SECONDS, leadership.renew)
    for job_id, seconds, send in jobs(settings, broker):
        every(job_id, seconds, leadership.guard(send))
    if settings.should_delete_dead_packs:
        hour, minute = map(int, settings.delete_dead_packs_at.split(":"))
        send = sender(broker, DELETE_DEAD_PACKS)
        daily = DailyJob(client, "dead-packs", time(hour, minute), send, utcnow)
        every("dead_packs", DAILY_CHECK_EVERY, leadership.guard(daily.tick))
    return scheduler


def single_flight(job_id: str, body: Callable[[], object]) -> Callable[[], None]:
    """``body``, skipped (at DEBUG) while its previous run has not returned."""
    running = threading.Lock()

    def run() -> None:
        if not running.acquire(blocking=False):
            logger.debug("%s: the previous run is still going; skipping a tick", job_id)
            return
        try:
            body()
        finally:
            running.release()

    return run


def lease_client(url: str) -> redis.Redis:
    """The Redis client of the leader's lease: short timeouts, no retries."""
    return fail_fast_client(url, LEASE_CALL_TIMEOUT_SECONDS)


def main() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C (the process's entry point)."""
    settings = Settings.from_env()
    configure_logging(settings)
    client = lease_client(settings.redis_url)
    scheduler = build_scheduler(settings, client, build_broker(settings))

    def stop(signum: int, frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    logger.info("scheduler started with %d job(s)", len(scheduler.get_jobs()))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    logger.info("scheduler stopped")


if __name__ == "__main__":
    main()
