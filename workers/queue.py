"""DramatiqQueue: the WorkQueue the API uses, on either broker (Redis or RabbitMQ)."""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from flyte.errors import Unavailable
from workers.messages import HANDLE_EVENT

#: What a broker raises when it cannot take a message: Redis's client errors, and
#: Dramatiq's BrokerConnectionError (RabbitmqBroker wraps pika's errors in it after
#: its own retries).
BROKER_ERRORS = (redis.RedisError, dramatiq.errors.BrokerConnectionError)


class DramatiqQueue:
    """Send events to the ``handle_event`` actor through ``broker``."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker
        self._broker_name = broker_name(broker)

    def send_event(self, event_id: str) -> None:
        """Enqueue the event; a broker failure becomes ``Unavailable``."""
        try:
            self._broker.enqueue(HANDLE_EVENT.message(event_id))
        except BROKER_ERRORS as ex:
            raise Unavailable(
                f"{self._broker_name} is unavailable ({type(ex).__name__})"
            ) from ex


def broker_name(broker: dramatiq.Broker) -> str:
    """``RabbitMQ`` or ``Redis``: the service an operator should look at."""
    return "RabbitMQ" if isinstance(broker, RabbitmqBroker) else "Redis"
