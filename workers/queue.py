"""DramatiqQueue: the WorkQueue the API uses, backed by the Redis broker."""

from __future__ import annotations

import dramatiq
import redis

from flyte.errors import Unavailable


class DramatiqQueue:
    """Send events to the ``handle_event`` actor through ``broker``."""

    def __init__(self, broker: dramatiq.Broker | None = None) -> None:
        self._broker = broker or dramatiq.get_broker()

    def send_event(self, event_id: str) -> None:
        """Enqueue the event; a Redis failure becomes ``Unavailable``."""
        # Imported here: the actor module binds to the broker installed first.
        from workers.events import handle_event

        try:
            self._broker.enqueue(handle_event.message(event_id))
        except redis.RedisError as ex:
            raise Unavailable(f"Redis is unavailable ({type(ex).__name__})") from ex
