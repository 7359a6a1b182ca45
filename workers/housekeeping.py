"""Periodic repair actors; the scheduler process sends them on a timer."""

from __future__ import annotations

import dramatiq

from workers.context import get_housekeeper


@dramatiq.actor(queue_name="housekeeping", max_retries=0)
def recover_events() -> None:
    """Re-queue events whose message was lost."""
    get_housekeeper().recover_events()


@dramatiq.actor(queue_name="housekeeping", max_retries=0)
def expire_leases() -> None:
    """Hand out again, or fail, actions whose lease expired."""
    get_housekeeper().expire_leases()
