"""``python -m workers.scheduler``: the periodic process (Procfile ``scheduler``).

Each periodic job is a Dramatiq message, so the workers do the work and this
process only keeps time. Several schedulers may run; only the one holding the
Redis lease sends jobs (see ``workers.leadership``). The jobs are idempotent, so
a tick sent twice during a hand-over is harmless.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import time
from types import FrameType

import redis
from apscheduler.schedulers.blocking import BlockingScheduler

import workers
from flyte.clock import utcnow
from flyte.config import Settings
from workers.housekeeping import delete_dead_packs
from workers.housekeeping import expire_leases
from workers.housekeeping import purge_expired
from workers.housekeeping import recover_events
from workers.leadership import RENEW_EVERY_SECONDS
from workers.leadership import DailyJob
from workers.leadership import Leadership

logger = logging.getLogger("workers.scheduler")

#: Seconds between runs of each job.
RECOVER_EVENTS_EVERY = 15
EXPIRE_LEASES_EVERY = 5
PURGE_EXPIRED_EVERY = 600
#: Daily jobs check whether they are due this often.
DAILY_CHECK_EVERY = 60


def jobs() -> list[tuple[str, float, Callable[[], object]]]:
    """(job id, interval in seconds, what to send) for every periodic job."""
    return [
        ("recover_events", RECOVER_EVENTS_EVERY, recover_events.send),
        ("expire_leases", EXPIRE_LEASES_EVERY, expire_leases.send),
        ("purge_expired", PURGE_EXPIRED_EVERY, purge_expired.send),
    ]


def build_scheduler(settings: Settings, client: redis.Redis) -> BlockingScheduler:
    """A scheduler with every job registered, each guarded by the leadership."""
    scheduler = BlockingScheduler(timezone="UTC")
    leadership = Leadership(client)

    def every(job_id: str, seconds: float, body: Callable[[], object]) -> None:
        scheduler.add_job(
            body,
            "interval",
            seconds=seconds,
            id=job_id,
            coalesce=True,
            max_instances=1,
        )

    every("leadership", RENEW_EVERY_SECONDS, leadership.renew)
    for job_id, seconds, send in jobs():
        every(job_id, seconds, leadership.guard(send))
    if settings.should_delete_dead_packs:
        hour, minute = map(int, settings.delete_dead_packs_at.split(":"))
        daily = DailyJob(
            client, "dead-packs", time(hour, minute), delete_dead_packs.send, utcnow
        )
        every("dead_packs", DAILY_CHECK_EVERY, leadership.guard(daily.tick))
    return scheduler


def main() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C."""
    settings = workers.settings
    scheduler = build_scheduler(settings, redis.Redis.from_url(settings.redis_url))

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
