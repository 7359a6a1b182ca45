"""DramatiqQueue: the WorkQueue the API uses, backed by the Redis broker."""

from __future__ import annotations

import dramatiq
import redis

from flyte.errors import Unavailable
from workers.messages import HANDLE_EVENT


class DramatiqQueue:
    """Send events to the ``handle_event`` actor through ``broker``."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def send_event(self, event_id: str) -> None:
        """Enqueue the event; a Redis failure becomes ``Unavailable``."""
        try:
            self._broker.enqueue(HANDLE_EVENT.message(event_id))
        except redis.RedisError as ex:
            raise Unavailable(f"Redis is unavailable ({type(ex).__name__})") from ex
