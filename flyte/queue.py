"""The seam between the API and the workers: how an accepted event gets processed."""

from __future__ import annotations

from typing import Protocol


class WorkQueue(Protocol):
    """Queues work for the engine; raises ``flyte.errors.Unavailable`` if it cannot."""

    def send_event(self, event_id: str) -> None:
        """Ask a worker to process the stored event ``event_id``."""
