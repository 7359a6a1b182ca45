"""One active scheduler at a time, and daily jobs that run once a day.

Any number of scheduler processes may run (for availability); they share a lease
in Redis, and only its holder sends periodic jobs. When the holder dies the lease
expires within ``LEASE_MS`` and another one takes over, so at most one tick of a
job is lost. Daily jobs also claim their day in Redis, so even two schedulers
that briefly both believe they lead cannot run one twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import time
from datetime import timedelta

import redis

logger = logging.getLogger(__name__)

#: How long a leader's claim lasts without renewal, and how often it renews.
LEASE_MS = 4000
RENEW_EVERY_SECONDS = 1.0

#: Take the lease if free, or extend it if ours; atomic, so never both.
_ACQUIRE_OR_RENEW = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class Leadership:
    """A Redis lease naming the one scheduler that sends periodic jobs."""

    def __init__(
        self,
        client: redis.Redis,
        key: str = "flyte:scheduler:leader",
        lease_ms: int = LEASE_MS,
    ) -> None:
        self._client = client
        self._key = key
        self._lease_ms = lease_ms
        self._me = uuid.uuid4().hex
        self._script = client.register_script(_ACQUIRE_OR_RENEW)
        self._leading = False

    @property
    def leading(self) -> bool:
        """True while this process holds the lease (as of the last renewal)."""
        return self._leading

    def renew(self) -> bool:
        """Take or extend the lease; a Redis outage means not leading."""
        try:
            won = bool(self._script(keys=[self._key], args=[self._me, self._lease_ms]))
        except redis.RedisError as ex:
            logger.warning("scheduler lease unavailable: %s", ex)
            won = False
        if won != self._leading:
            logger.info("scheduler %s", "leads" if won else "stands by")
        self._leading = won
        return won

    def guard(self, send: Callable[[], object]) -> Callable[[], None]:
        """A job body that sends only while this scheduler leads."""

        def job() -> None:
            if self._leading:
                send()

        return job


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
