"""The Dramatiq broker, built from Settings by an entry point."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings

REDIS_CONNECT_TIMEOUT_SECONDS = 2
REDIS_TIMEOUT_SECONDS = 10


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker on ``REDIS_URL`` with Dramatiq's default middleware."""
    # Fail fast when Redis is down, so the API can answer 503 promptly.
    # RedisBroker.__init__ has no annotations in dramatiq.
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.redis_url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )


def install_broker(settings: Settings) -> dramatiq.Broker:
    """Build the broker and make it Dramatiq's process-global one.

    Only an entry point may call this. Flyte passes its broker explicitly
    everywhere, so nothing of its own needs the global.
    """
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker
