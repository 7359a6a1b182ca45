"""Health checks of the services Flyte depends on, each answering in a time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import pymongo
import redis
from pymongo.database import Database
from pymongo.errors import PyMongoError

from flyte.fast_redis import fail_fast_client

#: A check returns nothing when healthy and raises when not.
HealthCheck = Callable[[], None]
#: Health must answer quickly even when a service refuses connections or hangs.
CHECK_TIMEOUT_SECONDS = 2.0


def run_checks(
    checks: Mapping[str, HealthCheck], timeout: float = CHECK_TIMEOUT_SECONDS
) -> dict[str, str]:
    """Run every check at once; map each name to ``ok`` or ``down: <reason>``.

    Answers within ``timeout``: a check still running then is reported down.
    """
    deadline = time.monotonic() + timeout
    attempts = {name: _Attempt(name, check) for name, check in checks.items()}
    results = {}
    for name, attempt in attempts.items():
        try:
            attempt.result(deadline, timeout)
            results[name] = "ok"
        except Exception as ex:  # noqa: BLE001 - any failure means "down"
            results[name] = f"down: {ex}"
    return results


def within(seconds: float, check: HealthCheck, name: str = "check") -> HealthCheck:
    """``check``, raising TimeoutError when it has not answered in ``seconds``."""

    def bounded() -> None:
        _Attempt(name, check).result(time.monotonic() + seconds, seconds)

    return bounded


def mongo_check(
    db: Database[dict[str, Any]], timeout: float = CHECK_TIMEOUT_SECONDS
) -> HealthCheck:
    """A check that pings MongoDB, answering within ``timeout``."""

    def ping() -> None:
        try:
            # Bounds server selection, connecting and the answer, so the thread
            # left behind by a hung server ends soon after the check gave up.
            with pymongo.timeout(timeout):
                db.command("ping")
        except PyMongoError as ex:
            raise ConnectionError(type(ex).__name__) from ex

    # pymongo.timeout alone may overrun: server selection re-checks its deadline
    # only every half second.
    return within(timeout, ping, "mongo")


def redis_check(
    client: redis.Redis, timeout: float = CHECK_TIMEOUT_SECONDS
) -> HealthCheck:
    """A check that pings Redis through ``client``, answering within ``timeout``.

    Any client will do; one from ``health_redis_client`` also ends its ping soon
    after the check gives up, where a default client may retry for seconds.
    """

    def ping() -> None:
        client.ping()

    return within(timeout, ping, "redis")


def noted(check: HealthCheck, note: str) -> HealthCheck:
    """``check``, its failure reason followed by ``note`` (why the service matters)."""

    def annotated() -> None:
        try:
            check()
        except Exception as ex:  # noqa: BLE001 - reported as "down: ..."
            raise ConnectionError(f"{ex} ({note})") from ex

    return annotated


def health_redis_client(
    url: str, timeout: float = CHECK_TIMEOUT_SECONDS
) -> redis.Redis:
    """A Redis client for health checks: one try, no wait longer than ``timeout``."""
    return fail_fast_client(url, timeout)


class _Attempt:
    """One check running in a daemon thread of its own, so a hung one can be left.

    Not concurrent.futures: its worker threads are joined at interpreter exit,
    so a check hung on a stopped server would hold up the process's shutdown.
    """

    def __init__(self, name: str, check: HealthCheck) -> None:
        self._error: Exception | None = None
        self._thread = threading.Thread(
            target=self._run, args=(check,), name=f"health-{name}", daemon=True
        )
        self._thread.start()

    def _run(self, check: HealthCheck) -> None:
        try:
            check()
        except Exception as ex:  # noqa: BLE001 - handed to whoever waits for it
            self._error = ex

    def result(self, deadline: float, limit: float) -> None:
        """Wait until ``deadline``; raise what the check raised, or TimeoutError."""
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            raise TimeoutError(f"no answer within {limit:g} s")
        if self._error is not None:
            raise self._error
