"""Redis clients that fail fast: one try, and no call waits longer than asked."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def fail_fast_client(url: str, timeout: float) -> redis.Redis:
    """A client on ``url`` whose connects and calls give up after ``timeout`` s.

    redis-py retries a refused or timed-out command three times with backoff by
    default (4.4 s to report a refused Redis); health checks, the schedulers'
    lease and the flow stamp would rather know at once.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
