"""Every Flyte actor, declared on a given broker; nothing is declared at import."""

from __future__ import annotations

from typing import Any

import dramatiq

from workers.context import WorkerContext
from workers.events import declare_event_actor
from workers.housekeeping import declare_housekeeping_actors


def declare_actors(
    broker: dramatiq.Broker, context: WorkerContext
) -> list[dramatiq.Actor[Any, None]]:
    """Declare the event and repair actors on ``broker``, running on ``context``."""
    return [
        declare_event_actor(broker, context),
        *declare_housekeeping_actors(broker, context),
    ]
