"""The Dramatiq broker, built from Settings; imported first by ``workers``."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker on ``REDIS_URL`` with Dramatiq's default middleware."""
    return RedisBroker(url=settings.redis_url)


def install_broker(settings: Settings) -> dramatiq.Broker:
    """Build the broker and make it the process-global one actors bind to."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker
