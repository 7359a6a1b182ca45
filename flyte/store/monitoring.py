"""Counting every MongoDB command a process sends, by the stage of work it serves.

Code that does one kind of work (accepting an event, a take, evaluating an
event, ...) runs inside ``counting_stage(name)``; the ``CommandCounter`` that
``connect`` gives every client counts each command under the current stage, so
``flyte_mongo_commands_total`` shows where the database round trips go.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pymongo.monitoring import CommandFailedEvent
from pymongo.monitoring import CommandListener
from pymongo.monitoring import CommandStartedEvent
from pymongo.monitoring import CommandSucceededEvent

from flyte.metrics import Metrics

#: The stages, as the ``stage`` label names them.
ACCEPT = "accept"
TAKE = "take"
RESULT = "result"
EVALUATE = "evaluate"
HOUSEKEEPING = "housekeeping"
OTHER = "other"

#: The stage of the work running in this thread (or task).
current_stage: ContextVar[str] = ContextVar("flyte_mongo_stage", default=OTHER)


@contextmanager
def counting_stage(name: str) -> Iterator[None]:
    """Count the MongoDB commands sent inside the block under stage ``name``."""
    token = current_stage.set(name)
    try:
        yield
    finally:
        current_stage.reset(token)


def target_collection(command_name: str, command: Any) -> str:
    """The collection a command document names, or "" (ping, buildInfo, ...)."""
    # getMore's own value is the cursor id; its collection has a field apart.
    key = "collection" if command_name == "getMore" else command_name
    target = command.get(key)
    return target if isinstance(target, str) else ""


class CommandCounter(CommandListener):
    """Counts each command as it starts; pymongo calls it in the sending thread,
    so the stage is the sender's. It runs on every command: keep it cheap."""

    def __init__(self, metrics: Metrics) -> None:
        self._count = metrics.mongo_command_sent

    def started(self, event: CommandStartedEvent) -> None:
        """Count the command under the current stage."""
        name = event.command_name
        self._count(current_stage.get(), target_collection(name, event.command), name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        """Nothing: a command counts once, when sent."""

    def failed(self, event: CommandFailedEvent) -> None:
        """Nothing: a command counts once, when sent."""
