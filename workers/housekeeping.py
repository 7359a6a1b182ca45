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


@dramatiq.actor(queue_name="housekeeping", max_retries=0)
def purge_expired() -> None:
    """Delete data past its retention."""
    get_housekeeper().purge_expired()


@dramatiq.actor(queue_name="housekeeping", max_retries=0)
def delete_dead_packs() -> None:
    """Remove packs silent for longer than the grace period."""
    get_housekeeper().delete_dead_packs()
