"""RabbitmqQueueInspector: the queue seam over AMQP, for Dramatiq's RabbitmqBroker.

Dramatiq declares three durable queues per queue name: ``<q>`` (ready),
``<q>.DQ`` (delayed: retries waiting for their time) and ``<q>.XQ`` (dead
letters). AMQP tells how many messages each holds (a passive ``queue.declare``),
but not how many are fetched and unacknowledged, and it has no browse: a page of
messages is read by fetching them without acknowledging, then handing them all
back, so RabbitMQ marks them redelivered. Dramatiq workers leave no heartbeats in
RabbitMQ, so no worker list either. RabbitMQ's management plugin shows what
AMQP cannot (docs/deployment.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ParamSpec
from typing import TypeVar

import dramatiq
import pika
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import dq_name
from dramatiq.common import q_name
from dramatiq.common import xq_name
from dramatiq.errors import BrokerConnectionError
from pika.adapters.blocking_connection import BlockingChannel

from flyte.clock import from_millis
from flyte.errors import Conflict
from flyte.errors import NotFound
from flyte.errors import Unavailable
from flyte.queue_inspection import MAX_PAGE_SIZE
from flyte.queue_inspection import MessagePage
from flyte.queue_inspection import MessageState
from flyte.queue_inspection import QueueDepth
from flyte.queue_inspection import QueuedMessage
from flyte.queue_inspection import QueueInspector
from flyte.queue_inspection import WorkerInfo
from workers.messages import DELETE_DEAD_PACKS
from workers.messages import HANDLE_EVENT
from workers.stored_messages import decode_message
from workers.stored_messages import fresh_copy
from workers.stored_messages import shown_message

P = ParamSpec("P")
R = TypeVar("R")

#: Flyte's own queues: listed even before anything was sent to them.
FLYTE_QUEUES = frozenset({HANDLE_EVENT.queue_name, DELETE_DEAD_PACKS.queue_name})
#: Most messages fetched to show one page, or to find one dead message: every
#: one fetched is handed back, so this bounds the work of one request.
MAX_FETCHED = 1000
_PHYSICAL = {
    MessageState.READY: q_name,
    MessageState.DELAYED: dq_name,
    MessageState.DEAD: xq_name,
}


def _unavailable_on_amqp_error(method: Callable[P, R]) -> Callable[P, R]:
    """Turn a RabbitMQ failure into ``Unavailable``, as the API maps it to 503."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (pika.exceptions.AMQPError, BrokerConnectionError) as ex:
            raise Unavailable(f"RabbitMQ is unavailable ({type(ex).__name__})") from ex

    return wrapper


class RabbitmqQueueInspector:
    """``flyte.queue_inspection.QueueInspector`` for Dramatiq's ``RabbitmqBroker``."""

    def __init__(
        self, broker: RabbitmqBroker, known_queues: Iterable[str] = ()
    ) -> None:
        self._broker = broker
        self._known = frozenset(known_queues)

    @_unavailable_on_amqp_error
    def depths(self) -> list[QueueDepth]:
        """Ready, delayed and dead counts of Flyte's queues and those declared here."""
        names = sorted(self._known | self._broker.get_declared_queues())
        for name in names:
            # Declares (once) what no worker declared yet, as a worker would:
            # counting a queue that does not exist closes the channel.
            self._broker.declare_queue(name, ensure=True)
        with self._channel() as channel:
            return [
                QueueDepth(
                    name=name,
                    ready=_count(channel, q_name(name)),
                    delayed=_count(channel, dq_name(name)),
                    dead=_count(channel, xq_name(name)),
                    # AMQP does not tell; the management plugin does.
                    in_flight=None,
                )
                for name in names
            ]

    @_unavailable_on_amqp_error
    def messages(
        self, queue: str, state: MessageState, offset: int = 0, limit: int = 50
    ) -> MessagePage:
        """One page of ``queue``'s messages, oldest first, fetched and handed back."""
        if state not in _PHYSICAL:
            raise ValueError(f"RabbitMQ cannot list {state} messages")
        queue = self._checked(queue)
        physical = _PHYSICAL[state](queue)
        offset = min(max(offset, 0), MAX_FETCHED)
        limit = min(max(limit, 1), MAX_PAGE_SIZE, MAX_FETCHED - offset)
        with self._channel() as channel:
            total = _count(channel, physical)
            bodies = list(_fetch(channel, physical, offset + limit))
        # Closing the channel hands every unacknowledged message back.
        page = [_queued(body, queue, state) for _, body in bodies[offset:]]
        return MessagePage(page, total, offset, limit)

    @_unavailable_on_amqp_error
    def requeue_dead(self, queue: str, message_id: str) -> bool:
        """Send one dead message back to ``queue``; False if it is not found."""
        return self._take_dead(queue, message_id, requeue=True)

    @_unavailable_on_amqp_error
    def delete_dead(self, queue: str, message_id: str) -> bool:
        """Drop one dead message; False if it is not found."""
        return self._take_dead(queue, message_id, requeue=False)

    @_unavailable_on_amqp_error
    def requeue_all_dead(self, queue: str) -> int:
        """Send every dead message of ``queue`` back (those there when asked)."""
        queue = self._checked(queue)
        sent = 0
        with self._channel() as channel:
            waiting = _count(channel, xq_name(queue)) or 0
            for tag, body in _fetch(channel, xq_name(queue), waiting):
                self._send_fresh(body, queue)
                channel.basic_ack(tag)
                sent += 1
        return sent

    def workers(self) -> list[WorkerInfo]:
        """None: Dramatiq's workers leave no trace in RabbitMQ that lists them."""
        return []

    def _take_dead(self, queue: str, message_id: str, *, requeue: bool) -> bool:
        queue = self._checked(queue)
        with self._channel() as channel:
            for tag, body in _fetch(channel, xq_name(queue), MAX_FETCHED):
                message = decode_message(body)
                if message is not None and message.message_id == message_id:
                    if requeue:
                        self._send_fresh(body, queue)
                    channel.basic_ack(tag)
                    return True
        return False

    def _send_fresh(self, body: bytes, queue: str) -> None:
        message = decode_message(body)
        if message is None:
            raise Conflict("an undecodable dead message cannot be requeued; delete it")
        self._broker.enqueue(fresh_copy(message, queue))

    def _checked(self, queue: str) -> str:
        name = q_name(queue)
        if name not in self._known | self._broker.get_declared_queues():
            raise NotFound(f"queue {queue!r} not found")
        self._broker.declare_queue(name, ensure=True)
        return name

    @contextmanager
    def _channel(self) -> Iterator[BlockingChannel]:
        # A connection of its own per request: pika's are not thread-safe.
        connection = pika.BlockingConnection(self._broker.parameters)
        try:
            yield connection.channel()
        finally:
            connection.close()


def build_rabbitmq_inspector(broker: dramatiq.Broker) -> QueueInspector | None:
    """The inspector of a ``RabbitmqBroker``; None for another broker."""
    if isinstance(broker, RabbitmqBroker):
        return RabbitmqQueueInspector(broker, known_queues=FLYTE_QUEUES)
    return None


def _count(channel: BlockingChannel, name: str) -> int:
    """Messages ready (not fetched by a worker) in the declared queue ``name``."""
    declared = channel.queue_declare(name, passive=True)
    return int(declared.method.message_count)


def _fetch(
    channel: BlockingChannel, name: str, most: int
) -> Iterator[tuple[int, bytes]]:
    """Up to ``most`` messages of queue ``name``, unacknowledged: (tag, body)."""
    for _ in range(min(most, MAX_FETCHED)):
        method, _properties, body = channel.basic_get(name, auto_ack=False)
        if method is None:
            return
        yield method.delivery_tag, body


def _queued(body: bytes, queue: str, state: MessageState) -> QueuedMessage:
    """What the console shows of one message; an undecodable one says so."""
    message = decode_message(body)
    eta = None if message is None else message.options.get("eta")
    return shown_message(
        message,
        message_id="" if message is None else message.message_id,
        size=len(body),
        queue=queue,
        state=state,
        state_since=None if eta is None else from_millis(int(eta)),
    )
