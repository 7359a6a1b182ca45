"""The Dramatiq broker, built from Settings by an entry point: Redis or RabbitMQ."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.health import CHECK_TIMEOUT_SECONDS
from flyte.health import HealthCheck
from flyte.health import health_redis_client
from flyte.health import noted
from flyte.health import redis_check
from flyte.health import within
from workers.doorbell import Doorbell
from workers.doorbell import DoorbellRedisBroker
from workers.stored_messages import DeadLetterDetails

REDIS_CONNECT_TIMEOUT_SECONDS = 2
REDIS_TIMEOUT_SECONDS = 10

#: pika connection options Flyte sets unless the URL sets them: fail fast when
#: RabbitMQ is down (so the API answers 503 promptly, as with Redis), and raise
#: rather than hang when RabbitMQ blocks publishers (a memory or disk alarm).
RABBITMQ_URL_DEFAULTS = {
    "connection_attempts": "1",
    "socket_timeout": "2",
    "blocked_connection_timeout": "10",
}

#: Why /health checks Redis when the broker is elsewhere.
LEADERSHIP_NEEDS_REDIS = (
    "the schedulers elect their leader in REDIS_URL's Redis, whatever the broker"
)


def build_broker(settings: Settings) -> dramatiq.Broker:
    """The broker of ``settings.broker``, with Dramatiq's default middleware."""
    if settings.uses_rabbitmq:
        return build_rabbitmq_broker(settings.broker)
    return build_redis_broker(settings.broker)


def build_redis_broker(url: str) -> RedisBroker:
    """A Redis broker on ``url``, failing fast when Redis is down.

    Its dead letters keep why they died, for the console's Queues page, and its
    idle consumers wake when a message is queued (workers/doorbell.py).
    """
    # RedisBroker.__init__ has no annotations in dramatiq.
    broker = DoorbellRedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    broker.add_middleware(DeadLetterDetails())
    broker.add_middleware(Doorbell())
    return broker


def build_rabbitmq_broker(url: str) -> RabbitmqBroker:
    """A RabbitMQ broker on ``url`` (several nodes: URLs separated by ``;``)."""
    urls = [with_rabbitmq_defaults(one) for one in url.split(";") if one.strip()]
    quiet_pika()
    # confirm_delivery: enqueue returns only once RabbitMQ has taken the message
    # (and raises if it could not), so a 202 never hides a lost publish.
    return RabbitmqBroker(url=urls, confirm_delivery=True)


def quiet_pika() -> None:
    """Keep pika's log to warnings: it logs every connection opened and closed."""
    logging.getLogger("pika").setLevel(logging.WARNING)


def with_rabbitmq_defaults(url: str) -> str:
    """``url`` with ``RABBITMQ_URL_DEFAULTS`` added where its query sets nothing."""
    parts = urlsplit(url.strip())
    query = dict(parse_qsl(parts.query))
    for name, value in RABBITMQ_URL_DEFAULTS.items():
        query.setdefault(name, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def broker_health_checks(settings: Settings) -> dict[str, HealthCheck]:
    """Checks of the broker, and of Redis when only the schedulers still need it."""
    redis = redis_check(health_redis_client(settings.redis_url))
    if settings.broker == settings.redis_url:
        return {"redis": redis}
    broker = (
        rabbitmq_check(settings.broker)
        if settings.uses_rabbitmq
        else redis_check(health_redis_client(settings.broker))
    )
    name = "rabbitmq" if settings.uses_rabbitmq else "broker"
    return {name: broker, "redis": noted(redis, LEADERSHIP_NEEDS_REDIS)}


def rabbitmq_check(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> HealthCheck:
    """A check that opens (and closes) a connection to RabbitMQ within ``timeout``."""
    quiet_pika()
    parameters = [
        pika.URLParameters(with_rabbitmq_defaults(one))
        for one in url.split(";")
        if one.strip()
    ]

    def connect() -> None:
        # Any one node of a cluster answering is enough: pika tries each in turn.
        pika.BlockingConnection(parameters).close()

    return within(timeout, connect, "rabbitmq")
