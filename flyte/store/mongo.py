"""The MongoDB connection and the error translation every store uses."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import BulkWriteError
from pymongo.errors import ConnectionFailure

from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.store.monitoring import CommandCounter

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
#: MongoDB's error code for a duplicate key.
DUPLICATE_KEY = 11000


def connect(
    settings: Settings, metrics: Metrics | None = None
) -> Database[dict[str, Any]]:
    """Open the configured database; the client connects lazily, so call after fork.

    Every command it sends counts in ``metrics`` (by default the process's).
    """
    client: MongoClient[dict[str, Any]] = MongoClient(
        settings.mongo_uri,
        appname="flyte",
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
        event_listeners=[CommandCounter(metrics or get_metrics())],
    )
    return client[settings.mongo_database]


def is_nx_27017(db: Database[dict[str, Any]]) -> bool:
    """True when the server is nx-27017, whose traps some stores work around."""
    return db.client.admin.command("buildInfo").get("process") == "nx_27017"


def ping(db: Database[dict[str, Any]]) -> None:
    """Raise Unavailable unless the server answers a ping."""
    with unavailable_on_failure():
        db.command("ping")


class unavailable_on_failure:  # noqa: N801 - used like a function, as contextlib's are
    """Context manager turning a lost Mongo connection into ``Unavailable``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, ex: Any, tb: Any) -> None:
        if kind is not None and issubclass(kind, ConnectionFailure):
            # The full topology description is for the log, not the client.
            logger.warning("MongoDB is unavailable: %s", ex)
            raise Unavailable(f"MongoDB is unavailable ({kind.__name__})") from ex


def translate_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Decorate a store method so a lost connection raises ``Unavailable``."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with unavailable_on_failure():
            return method(*args, **kwargs)

    return wrapper


def only_duplicates(ex: BulkWriteError) -> bool:
    """True when every failed write of an unordered bulk insert was a duplicate id."""
    errors = ex.details.get("writeErrors", [])
    return all(error.get("code") == DUPLICATE_KEY for error in errors)
