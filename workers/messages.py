"""Where each of Flyte's Dramatiq messages goes: its actor's name and queue.

Senders (the API's queue, the scheduler) build messages from these addresses and
never import the actors; ``workers.actors`` declares the actors under the same
addresses, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq


@dataclass(frozen=True)
class ActorAddress:
    """The name of an actor and the queue its messages wait on."""

    actor_name: str
    queue_name: str

    def message(self, *args: str) -> dramatiq.Message[Any]:
        """A message for this actor, as ``Actor.message(*args)`` would build it."""
        return dramatiq.Message(
            queue_name=self.queue_name,
            actor_name=self.actor_name,
            args=args,
            kwargs={},
            options={},
        )


HANDLE_EVENT = ActorAddress("handle_event", "events")
RECOVER_EVENTS = ActorAddress("recover_events", "housekeeping")
EXPIRE_LEASES = ActorAddress("expire_leases", "housekeeping")
PURGE_EXPIRED = ActorAddress("purge_expired", "housekeeping")
DELETE_DEAD_PACKS = ActorAddress("delete_dead_packs", "housekeeping")
