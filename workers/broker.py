"""The Dramatiq broker, built from Settings by an entry point."""

from __future__ import annotations

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
