"""``python -m workers.scheduler``: the periodic process (Procfile ``scheduler``).

Each periodic job is a Dramatiq message, so the workers do the work and this
process only keeps time. Later issues register the housekeeping jobs in ``JOBS``.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from flyte.config import Settings
from flyte.logging import configure_logging

logger = logging.getLogger("workers.scheduler")

#: (job id, trigger arguments, function) for every periodic job.
JOBS: list[tuple[str, dict[str, object], Callable[[], None]]] = []


def build_scheduler() -> BlockingScheduler:
    """A scheduler in UTC with every job of ``JOBS`` registered."""
    scheduler = BlockingScheduler(timezone="UTC")
    for job_id, trigger, function in JOBS:
        scheduler.add_job(function, id=job_id, replace_existing=True, **trigger)
    return scheduler


def main() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C."""
    configure_logging(Settings.from_env())
    scheduler = build_scheduler()

    def stop(signum: int, frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    logger.info("scheduler started with %d job(s)", len(JOBS))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    logger.info("scheduler stopped")


if __name__ == "__main__":
    main()
