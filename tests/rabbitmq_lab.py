"""A RabbitMQ broker with a queue of one test's own, and dead letters on demand."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import xq_name

from flyte.config import Settings
from tests.rabbitmq import delete_queues
from workers.broker import build_broker
from workers.inspection_rabbitmq import RabbitmqQueueInspector


@dataclass
class Lab:
    """A broker on the session's virtual host, and a queue of this test's own."""

    url: str
    broker: RabbitmqBroker
    queue: str
    inspector: RabbitmqQueueInspector

    def dead_letter(self, *args: str) -> str:
        """Put a message for actor ``greet`` straight into the dead letters."""
        message = dramatiq.Message(
            queue_name=self.queue,
            actor_name="greet",
            args=args,
            kwargs={},
            options={"retries": 3, "traceback": "ValueError: boom"},
        )
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        connection.channel().basic_publish("", xq_name(self.queue), message.encode())
        connection.close()
        return message.message_id

    def depth(self) -> tuple[int | None, int | None, int | None]:
        """(ready, delayed, dead) of the test's queue."""
        found = [d for d in self.inspector.depths() if d.name == self.queue]
        return found[0].ready, found[0].delayed, found[0].dead


@contextmanager
def open_lab(url: str) -> Iterator[Lab]:
    """A lab on the virtual host at ``url``; its queues are deleted after."""
    broker = build_broker(Settings(broker_url=url))
    assert isinstance(broker, RabbitmqBroker)
    queue = f"inspect_{uuid.uuid4().hex[:8]}"
    broker.declare_queue(queue, ensure=True)
    try:
        yield Lab(url, broker, queue, RabbitmqQueueInspector(broker))
    finally:
        broker.close()
        delete_queues(url, (queue, f"{queue}.DQ", f"{queue}.XQ"))
