"""One active scheduler at a time, and daily jobs that run once a day.

Any number of scheduler processes may run (for availability); they share a lease
in Redis, and only its holder sends periodic jobs. When the holder dies the lease
expires within ``LEASE_MS`` and another one takes over, so at most one tick of a
job is lost. Daily jobs also claim their day in Redis, so even two schedulers
that briefly both believe they lead cannot run one twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time as monotonic_time
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import time
from datetime import timedelta

import dramatiq.errors
import redis
from redis.exceptions import LockError
from redis.lock import Lock

from flyte.errors import Unavailable

logger = logging.getLogger(__name__)

#: The Redis key of the schedulers' shared lease.
LEADER_KEY = "flyte:scheduler:leader"
#: How long a leader's claim lasts without renewal, and how often it renews.
LEASE_MS = 4000
RENEW_EVERY_SECONDS = 1.0
#: What a lease renewal or a send raises while Redis (or the broker) is away.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    redis.RedisError,
    dramatiq.errors.BrokerConnectionError,
)


class Outage:
    """Logs an outage of a service once when it starts, and once when it ends.

    The scheduler touches Redis every second; a line (or a traceback) per tick
    would bury everything else in the log while Redis is away.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._since: float | None = None

    def failed(self, what: str, ex: Exception) -> None:
        """Note a failed call: a WARNING for the first, DEBUG for the rest."""
        if self._since is None:
            self._since = monotonic_time.monotonic()
            logger.warning(
                "scheduler: %s failed (%s: %s); trying again each tick until %s"
                " answers",
                what,
                type(ex).__name__,
                ex,
                self._service,
            )
        else:
            logger.debug("scheduler: %s failed again: %s", what, ex)

    def succeeded(self) -> None:
        """Note a successful call: one INFO line if it ends an outage."""
        if self._since is not None:
            lasted = monotonic_time.monotonic() - self._since
            self._since = None
            logger.info(
                "scheduler: %s answers again after %.1f s", self._service, lasted
            )


class Leadership:
    """A Redis lease naming the one scheduler that sends periodic jobs.

    The lease is redis-py's ``Lock``, which keeps the one-leader guarantee:
    ``acquire`` is one ``SET NX PX`` (only a free lease is taken) and
    ``reacquire`` resets the expiry in one script, and only while the key still
    holds this scheduler's token (a lease lost to another is never extended). So
    at most one scheduler holds it, and a dead one's lease expires after
    ``lease_ms``. ``thread_local=False`` because APScheduler renews from
    whichever of its threads is free, and every thread must see the token.

    A paused leader (stopped, swapped out) may wake after its lease has passed
    to another. Redis cannot tell it so before it sends, so the leader keeps its
    own deadline: it leads only until ``lease_ms`` after it sent its last
    successful renewal, since Redis starts the lease no earlier than that.
    """

    def __init__(
        self,
        client: redis.Redis,
        key: str = LEADER_KEY,
        lease_ms: int = LEASE_MS,
        clock: Callable[[], float] = monotonic_time.monotonic,
    ) -> None:
        self._lock = Lock(client, key, timeout=lease_ms / 1000, thread_local=False)
        # The lease's token names its holder, so operators can see who leads.
        self._token = holder_token()
        self._lease_seconds = lease_ms / 1000
        self._clock = clock
        #: Until when, on ``clock``, the last renewal makes this scheduler leader.
        self._leads_until = float("-inf")
        self._lease_outage = Outage("Redis")
        self._send_outage = Outage("the broker")

    @property
    def leading(self) -> bool:
        """True while this process holds the lease and it has not run out."""
        return self._clock() < self._leads_until

    def renew(self) -> bool:
        """Take or extend the lease; a Redis outage means not leading."""
        was_leading = self.leading
        asked_at = self._clock()
        try:
            won = self._extend_or_take()
        except redis.RedisError as ex:
            self._lease_outage.failed("renewing the leader's lease", ex)
            won = False
        else:
            self._lease_outage.succeeded()
        self._leads_until = asked_at + self._lease_seconds if won else float("-inf")
        if won != was_leading:
            logger.info("scheduler %s", "leads" if won else "stands by")
        return won

    def guard(self, send: Callable[[], object]) -> Callable[[], None]:
        """A job body that sends only while this scheduler leads.

        A send that fails for an outage is left to the next tick (the jobs are
        periodic and idempotent), noted once in the log rather than as a traceback.
        """

        def job() -> None:
            if not self.leading:
                return
            try:
                send()
            except OUTAGE_ERRORS as ex:
                # Redis down (often the broker too) is the lease's one WARNING;
                # only a broker down while Redis answers gets a line of its own.
                if self.renew():
                    self._send_outage.failed("sending a periodic job", ex)
                else:
                    logger.debug("scheduler: a periodic job was not sent: %s", ex)
            else:
                self._send_outage.succeeded()

        return job

    def _extend_or_take(self) -> bool:
        try:
            return bool(self._lock.reacquire())
        except LockError:
            # Never held, or lost to another scheduler: take it only if free.
            # (Connection troubles are not LockErrors and reach the caller.)
            return bool(self._lock.acquire(blocking=False, token=self._token))


def holder_token() -> str:
    """A lease token unique to this scheduler that names it: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def read_leader(client: redis.Redis, key: str = LEADER_KEY) -> str | None:
    """The leading scheduler as ``host:pid``, or None while no scheduler leads.

    Raises ``flyte.errors.Unavailable`` when Redis does not answer.
    """
    try:
        token = client.get(key)
    except redis.RedisError as ex:
        raise Unavailable(f"Redis is unavailable ({type(ex).__name__})") from ex
    if token is None:
        return None
    text = token.decode() if isinstance(token, bytes) else str(token)
    return text.rsplit(":", 1)[0]


class DailyJob:
    """Runs ``send`` once a day, at or after ``at`` local time; Redis holds the claim.

    Called every minute. A scheduler that starts, or takes over, after the time
    of day still runs that day's job, so a crash loses no run.
    """

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        at: time,
        send: Callable[[], object],
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._name = name
        self._at = at
        self._send = send
        self._clock = clock

    def tick(self) -> bool:
        """Send the job if it is due today and nobody ran it yet; True if sent."""
        local = self._clock().astimezone()
        if local.time() < self._at:
            return False
        day_key = f"flyte:daily:{self._name}:{local.date().isoformat()}"
        claimed = self._client.set(
            day_key, "1", nx=True, ex=int(timedelta(days=2).total_seconds())
        )
        if claimed:
            logger.info("running daily job %s for %s", self._name, local.date())
            self._send()
        return bool(claimed)
