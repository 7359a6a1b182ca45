"""Health checks of the services Flyte depends on."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import pymongo
import redis
from pymongo.database import Database
from pymongo.errors import PyMongoError

#: A check returns nothing when healthy and raises when not.
HealthCheck = Callable[[], None]
#: Health must answer quickly even when a service hangs.
CHECK_TIMEOUT_SECONDS = 2.0


def run_checks(checks: Mapping[str, HealthCheck]) -> dict[str, str]:
    """Run every check; map each name to ``ok`` or ``down: <reason>``."""
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as ex:  # noqa: BLE001 - any failure means "down"
            results[name] = f"down: {ex}"
    return results


def mongo_check(db: Database[dict[str, Any]]) -> HealthCheck:
    """A check that pings MongoDB."""

    def check() -> None:
        try:
            with pymongo.timeout(CHECK_TIMEOUT_SECONDS):
                db.command("ping")
        except PyMongoError as ex:
            raise ConnectionError(type(ex).__name__) from ex

    return check


def redis_check(client: redis.Redis) -> HealthCheck:
    """A check that pings Redis."""

    def check() -> None:
        client.ping()

    return check
