"""The periodic repair actors; the scheduler process sends them on a timer."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq

from flyte.housekeeping import Housekeeper
from flyte.store.monitoring import HOUSEKEEPING
from flyte.store.monitoring import counting_stage
from workers.context import WorkerContext
from workers.messages import DELETE_DEAD_PACKS
from workers.messages import EXPIRE_LEASES
from workers.messages import PURGE_EXPIRED
from workers.messages import RECOVER_EVENTS
from workers.messages import ActorAddress

#: Each repair job, and the Housekeeper method it runs.
JOBS: tuple[tuple[ActorAddress, Callable[[Housekeeper], object]], ...] = (
    (RECOVER_EVENTS, Housekeeper.recover_events),
    (EXPIRE_LEASES, Housekeeper.expire_leases),
    (PURGE_EXPIRED, Housekeeper.purge_expired),
    (DELETE_DEAD_PACKS, Housekeeper.delete_dead_packs),
)


def declare_housekeeping_actors(
    broker: dramatiq.Broker, context: WorkerContext
) -> list[dramatiq.Actor[[], None]]:
    """Declare one actor per repair job on ``broker``, on ``context``'s housekeeper."""
    return [_declare_job(broker, context, address, run) for address, run in JOBS]


def _declare_job(
    broker: dramatiq.Broker,
    context: WorkerContext,
    address: ActorAddress,
    run: Callable[[Housekeeper], object],
) -> dramatiq.Actor[[], None]:
    def job() -> None:
        with counting_stage(HOUSEKEEPING):
            run(context.housekeeper)

    # A missed run is harmless: the scheduler sends the next one soon.
    declare = dramatiq.actor(
        actor_name=address.actor_name,
        queue_name=address.queue_name,
        broker=broker,
        max_retries=0,
    )
    return declare(job)
