"""What the console needs from the app's ``Dependencies``, as a protocol.

The console is wired from ``api/app.py``; naming that module's dataclass here
would make an import cycle, so the console states what it reads instead.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from flyte.health import HealthCheck
from flyte.queue import WorkQueue
from flyte.queue_inspection import QueueInspector
from flyte.store import Stores


class ConsoleDependencies(Protocol):
    """The stores, queue, health checks, clock and queue view the pages read."""

    @property
    def stores(self) -> Stores:
        """Every store."""

    @property
    def queue(self) -> WorkQueue:
        """Where replayed events are sent."""

    @property
    def health_checks(self) -> Mapping[str, HealthCheck]:
        """The checks /health runs, shown on the overview."""

    @property
    def clock(self) -> Callable[[], datetime]:
        """The time now."""

    @property
    def queues(self) -> QueueInspector | None:
        """The broker's queues, or None when there is no queue view."""

    @property
    def scheduler_leader(self) -> Callable[[], str | None] | None:
        """Names the leading scheduler (None: none leads); None: cannot tell."""
