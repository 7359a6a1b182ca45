"""``python -m workers.scheduler``: the periodic process (Procfile ``scheduler``).

Each periodic job is a Dramatiq message, so the workers do the work and this
process only keeps time. The jobs are idempotent, so a tick run twice is harmless.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from workers.housekeeping import expire_leases
from workers.housekeeping import recover_events

logger = logging.getLogger("workers.scheduler")

#: Seconds between runs of each job.
RECOVER_EVENTS_EVERY = 15
EXPIRE_LEASES_EVERY = 5


def jobs() -> list[tuple[str, int, Callable[[], object]]]:
    """(job id, interval in seconds, what to send) for every periodic job."""
    return [
        ("recover_events", RECOVER_EVENTS_EVERY, recover_events.send),
        ("expire_leases", EXPIRE_LEASES_EVERY, expire_leases.send),
    ]


def build_scheduler() -> BlockingScheduler:
    """A scheduler in UTC with every job registered."""
    scheduler = BlockingScheduler(timezone="UTC")
    for job_id, seconds, send in jobs():
        scheduler.add_job(
            send,
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
    return scheduler


def main() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler()

    def stop(signum: int, frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    logger.info("scheduler started with %d job(s)", len(jobs()))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    logger.info("scheduler stopped")


if __name__ == "__main__":
    main()
