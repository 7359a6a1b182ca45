"""The queue inspector for whichever broker a process built."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq

from flyte.errors import Unavailable
from flyte.queue_inspection import QueueInspector
from workers.inspection import build_inspector
from workers.inspection_rabbitmq import build_rabbitmq_inspector
from workers.messages import HANDLE_EVENT


def build_queue_inspector(broker: dramatiq.Broker) -> QueueInspector | None:
    """The Redis or RabbitMQ inspector of ``broker``; None for another broker."""
    return build_inspector(broker) or build_rabbitmq_inspector(broker)


def queued_events(inspector: QueueInspector | None) -> Callable[[], int | None]:
    """How many event messages wait for a worker (ready or delayed); None: unknown."""

    def count() -> int | None:
        if inspector is None:
            return None
        try:
            depths = inspector.depths()
        except Unavailable:
            return None
        for depth in depths:
            if depth.name == HANDLE_EVENT.queue_name:
                return (depth.ready or 0) + (depth.delayed or 0)
        return 0

    return count
